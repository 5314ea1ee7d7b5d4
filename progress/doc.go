// Package progress reports the progress of long work: a redrawn bar with
// rate, ETA and named counters when writing to a terminal, and plain log
// lines every few seconds otherwise (CI logs, files, pipes).
//
// A Bar is safe for concurrent use: crawler and decoder goroutines may call
// Add and Inc at once.
package progress
