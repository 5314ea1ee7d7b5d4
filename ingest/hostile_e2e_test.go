//go:build e2e

package ingest

import "testing"

// TestHostileCrawlDefaults is TestHostileCrawl with the crawl's default
// concurrency, timeouts, speed limit and retries: the 90 s stalls and the
// drip-fed hosts cost a header timeout or a speed-limit window per
// request, two requests per run. The wall time it logs is in BENCHMARKS.md.
func TestHostileCrawlDefaults(t *testing.T) {
	hostileCrawl(t, func(c *Config) {
		d := DefaultConfig()
		c.Concurrency, c.PerHost = d.Concurrency, d.PerHost
		c.ConnectTimeout, c.HeaderTimeout, c.FetchTimeout = d.ConnectTimeout, d.HeaderTimeout, d.FetchTimeout
		c.SpeedLimit, c.SpeedTime = d.SpeedLimit, d.SpeedTime
		c.Retries, c.BackoffBase, c.BackoffMax, c.MaxAttempts = d.Retries, d.BackoffBase, d.BackoffMax, d.MaxAttempts
	})
}
