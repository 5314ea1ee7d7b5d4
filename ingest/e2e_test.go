//go:build e2e

package ingest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// peakRSS is the process's peak resident set size in bytes (VmHWM).
func peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// TestCrawlMemory1M crawls a gzipped input of one million records from a
// loopback server (one in 50 a 640x480 JPEG, the rest 404s) and checks
// that the whole process, server included, peaks under 1 GiB.
// WEAKSUP_E2E_RECORDS sets another record count.
func TestCrawlMemory1M(t *testing.T) {
	records, every := 1_000_000, 50
	if n, err := strconv.Atoi(os.Getenv("WEAKSUP_E2E_RECORDS")); err == nil && n > 0 {
		records = n // a shorter run for a quick look
	}
	srv := imageServer(t, 32, 640, 480)
	dir := t.TempDir()
	input := filepath.Join(dir, "records.jsonl.gz")
	f, err := os.Create(input)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	w := bufio.NewWriter(zw)
	for i := range records {
		path := "/404/" + strconv.Itoa(i)
		if i%every == 0 {
			path = "/i/" + strconv.Itoa(i)
		}
		fmt.Fprintf(w, `{"id":"r%07d","url":"%s%s","caption":"photo #n%d #tag%d"}`+"\n", i, srv.URL, path, i%1000, i%7)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	f.Close()

	cfg := DefaultConfig()
	cfg.Input = input
	cfg.AllowPrivate = true
	cfg.PerHost = cfg.Concurrency
	st := openStore(t, dir)
	defer st.Close()
	counts, err := Run(context.Background(), st, dir, cfg, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if counts["ok"] != int64(records/every) || counts["http_404"] != int64(records-records/every) {
		t.Errorf("counts %v, want %d ok and %d http_404", counts, records/every, records-records/every)
	}
	peak := peakRSS(t)
	t.Logf("peak RSS %.0f MiB, counts %v", float64(peak)/(1<<20), counts)
	if peak > 1<<30 {
		t.Errorf("peak RSS %d bytes, want < 1 GiB", peak)
	}
}
