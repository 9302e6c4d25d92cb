//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// canCheckProcesses says whether processAlive can tell a dead process on this platform.
const canCheckProcesses = true

// procStart returns what distinguishes this incarnation of pid from a later process that
// reuses the number: on Linux the start time (field 22 of /proc/PID/stat), elsewhere "".
func procStart(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	// The command name (field 2) is in parentheses and may hold spaces: split after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", errors.New("malformed /proc stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 {
		return "", errors.New("short /proc stat")
	}
	return f[19], nil
}

// processAlive reports whether pid runs on this host and, when start is known, is the same
// process that recorded it.
func processAlive(pid int, start string) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if start == "" {
		return true
	}
	now, err := procStart(pid)
	if err != nil {
		// No /proc here (not Linux): the signal check is all we have.
		return true
	}
	return now == start
}
