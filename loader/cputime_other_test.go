//go:build !unix

package loader

import "time"

// cpuTime is unavailable here; per-CPU-second metrics read as zero.
func cpuTime() time.Duration { return 0 }
