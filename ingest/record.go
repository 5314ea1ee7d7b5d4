package ingest

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
)

// Crawler does the per-record work of the stage: fetch one record's image
// politely, validate and normalize it, hash it. Run drives one over the
// whole input; the Beam driver (package beampipe) drives one per worker
// process over input chunks. It is safe for concurrent use, and its
// per-host limits (--per-host, --per-host-interval) hold across all the
// goroutines that share it.
type Crawler struct {
	cfg     Config
	fetcher *Fetcher
	// decode bounds the images decoded at once to GOMAXPROCS: decoding is
	// CPU-bound, and the bound also bounds memory.
	decode chan struct{}
}

// NewCrawler returns a crawler for cfg; Close releases its connections.
func NewCrawler(cfg Config) *Crawler {
	return &Crawler{cfg: cfg, fetcher: NewFetcher(cfg.fetchConfig()), decode: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// Close closes the crawler's idle connections.
func (c *Crawler) Close() { c.fetcher.Close() }

// Crawl fetches and normalizes one input record stored under id, with prior
// requests already made for it in earlier runs; source names the input
// file. The record's Source is "source:line". It fails only when ctx ends.
func (c *Crawler) Crawl(ctx context.Context, in Input, id string, prior int, source string) (Fetched, error) {
	return crawlOne(ctx, c.fetcher, c.decode, c.cfg, job{in: in, id: id, prior: prior}, source)
}

// ValidID reports whether a record id can be stored: no NUL byte, at most
// 1,024 bytes. Records with other ids are skipped as SkipBadID.
func ValidID(id string) bool { return !strings.ContainsRune(id, 0) && len(id) <= 1024 }

// LineErrorMessage is the log line of an input line that yields no record:
// "ingest: FILE:LINE: REASON[: ERROR]", FILE being the base name of input.
func LineErrorMessage(input string, le *LineError) string {
	msg := le.Reason
	if le.Err != nil {
		msg += ": " + le.Err.Error()
	}
	return fmt.Sprintf("ingest: %s:%d: %s", filepath.Base(input), le.Line, msg)
}

// NewReader reads records of a text format (FormatJSONL, FormatCSV,
// FormatTSV, FormatYFCC) from r, which must already be decompressed. A CSV
// or TSV stream starts with its header line.
func NewReader(r io.Reader, format string, cols Columns) (Reader, error) {
	switch format {
	case FormatJSONL:
		return NewJSONLReader(r, cols), nil
	case FormatYFCC:
		return NewYFCCReader(r), nil
	case FormatCSV, FormatTSV:
		return NewCSVReader(r, format == FormatTSV, cols)
	}
	return nil, fmt.Errorf("format %q (want one of %s): %w", format, strings.Join(Formats, ", "), ErrUnknownFormat)
}

// SourceName is the name the records of input are stored with in their
// Source ("NAME:LINE"): the input's base name.
func SourceName(input string) string { return filepath.Base(input) }
