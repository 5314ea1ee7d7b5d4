//go:build unix

package loader

import (
	"syscall"
	"time"
)

// cpuTime is the user+system CPU time this process has used, so benchmarks
// can report work per CPU-second, which a busy shared machine distorts far
// less than work per wall-clock second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
