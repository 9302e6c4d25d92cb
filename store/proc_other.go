//go:build !unix

package store

import "errors"

// canCheckProcesses is false: running scans are recovered after Options.StaleAfter instead.
const canCheckProcesses = false

// procStart is unknown on this platform.
func procStart(int) (string, error) { return "", errors.New("process start time unavailable") }

// processAlive cannot check processes here, so it assumes the process is alive.
func processAlive(int, string) bool { return true }
