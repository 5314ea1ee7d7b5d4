//go:build !unix

package testkit

import "time"

// CPUTime is 0 where getrusage does not exist; ReportRate then reports the
// wall-clock rate only.
func CPUTime() time.Duration { return 0 }
