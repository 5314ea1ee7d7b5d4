//go:build unix

package testkit

import (
	"syscall"
	"time"
)

// CPUTime is the user+system CPU time this process has used. On a shared
// machine it separates the work of a benchmark from the time it waited for
// a core, which wall time does not.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
