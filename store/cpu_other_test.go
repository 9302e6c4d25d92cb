//go:build !unix

package store

import "time"

// cpuTime is unknown here.
func cpuTime() time.Duration { return 0 }
