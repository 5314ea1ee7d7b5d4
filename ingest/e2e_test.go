//go:build e2e

package ingest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"weaksup/store"
	"weaksup/store/storetest"
	"weaksup/workdir"
)

// procStatus reads a "Name:   123 kB" field of /proc/self/status in bytes.
func procStatus(t *testing.T, field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// memoryPeaks samples the process's anonymous and file-backed resident
// memory and the Go heap until stop is closed.
type memoryPeaks struct {
	anon, file, heap int64
	done             chan struct{}
}

func sampleMemory(t *testing.T, stop <-chan struct{}) *memoryPeaks {
	m := &memoryPeaks{done: make(chan struct{})}
	go func() {
		defer close(m.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		var profiled int64 // heap in use at the last profile
		for {
			m.anon = max(m.anon, procStatus(t, "RssAnon"))
			m.file = max(m.file, procStatus(t, "RssFile"))
			runtime.ReadMemStats(&ms)
			if int64(ms.HeapInuse) > profiled+32<<20 {
				profiled = int64(ms.HeapInuse)
				if path := os.Getenv("WEAKSUP_E2E_HEAPPROFILE"); path != "" {
					// The heap at its (latest) peak, for `go tool pprof`.
					if f, err := os.Create(path); err == nil {
						pprof.WriteHeapProfile(f)
						f.Close()
					}
				}
			}
			m.heap = max(m.heap, int64(ms.HeapInuse))
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

// TestCrawlMemory1M crawls a gzipped input of one million records from a
// loopback server (one in 50 a 640x480 JPEG, the rest 404s) and checks
// that the whole process, server included, peaks under 1 GiB of anonymous
// memory; it logs the file-backed store mappings and the Go heap too.
// WEAKSUP_E2E_RECORDS sets another record count; WEAKSUP_E2E_HEAPPROFILE
// names a file for a heap profile taken at the peak.
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
	st := storetest.Open(t, workdir.Dir(dir))
	defer st.Close()
	stop := make(chan struct{})
	peaks := sampleMemory(t, stop)
	stats, err := Run(context.Background(), st, workdir.Dir(dir), cfg, os.Stderr)
	close(stop)
	<-peaks.done
	if err != nil {
		t.Fatal(err)
	}
	counts := stats.Counts()
	if stats.Outcomes[store.OutcomeOK] != int64(records/every) || stats.Outcomes["http_404"] != int64(records-records/every) {
		t.Errorf("counts %v, want %d ok and %d http_404", counts, records/every, records-records/every)
	}
	hwm := procStatus(t, "VmHWM")
	t.Logf("peak RSS %.0f MiB (anonymous %.0f MiB, file-backed store mappings %.0f MiB), Go heap in use %.0f MiB",
		mib(hwm), mib(peaks.anon), mib(peaks.file), mib(peaks.heap))
	t.Logf("counts %v", counts)
	// The store maps its files; those pages are page cache the kernel
	// reclaims under pressure, so the bound is on anonymous memory.
	if peaks.anon > 1<<30 {
		t.Errorf("peak anonymous memory %.0f MiB, want < 1024 MiB", mib(peaks.anon))
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
