package testkit

import (
	"testing"
	"time"
)

// ReportRate reports items per second of wall time (unit/s) and per second
// of CPU time since cpuStart (unit/cpu-s), for the items the whole
// benchmark processed (usually b.N times the items of one op).
func ReportRate(b *testing.B, cpuStart time.Duration, items int, unit string) {
	b.Helper()
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), unit+"/s")
	if cpu := CPUTime() - cpuStart; cpu > 0 {
		b.ReportMetric(float64(items)/cpu.Seconds(), unit+"/cpu-s")
	}
}
