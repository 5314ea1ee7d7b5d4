package beampipe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"weaksup/pipeline"
	"weaksup/workdir"
)

// tinyImageServer serves a distinct 32×32 JPEG for every /img/N.jpg,
// drawn from N: a fast loopback source for crawls of many records.
func tinyImageServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/img/"), ".jpg"), 10, 64)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		h := fnv.New64a()
		fmt.Fprint(h, n)
		s := h.Sum64()
		img := image.NewRGBA(image.Rect(0, 0, 32, 32))
		for y := range 32 {
			for x := range 32 {
				cell := (x/8 + 4*(y/8)) % 16
				v := byte(s >> (4 * cell) & 0xf * 16)
				img.Set(x, y, color.RGBA{v, byte(s >> 8), byte(n), 255})
			}
		}
		var b bytes.Buffer
		jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(b.Bytes())
	}))
}

var benchTags = []string{"dog", "cat", "beach", "sunset", "car", "flower", "tree", "bird", "horse", "boat",
	"mountain", "pizza", "coffee", "bridge", "guitar", "nofilter", "love", "instagood", "bicycle", "lake"}

// writeBenchRecords writes n JSONL records, one in a hundred repeating an
// earlier image byte for byte.
func writeBenchRecords(path, base string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := io.Writer(f)
	buf := make([]byte, 0, 256)
	for i := range n {
		img := i
		if i%100 == 99 {
			img = i / 2
		}
		h := uint64(i)*0x9e3779b97f4a7c15 + 1
		tags := []string{benchTags[h%20], benchTags[(h>>8)%20]}
		if h>>16%3 == 0 {
			tags = append(tags, benchTags[(h>>24)%20])
		}
		t, _ := json.Marshal(tags)
		buf = fmt.Appendf(buf[:0], `{"id":"r%08d","url":"%s/img/%d.jpg","tags":%s}`+"\n", i, base, img, t)
		if _, err := bw.Write(buf); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRecords is the input size of BenchmarkPipelines:
// WEAKSUP_BENCH_RECORDS, 5,000 by default.
func benchRecords() int {
	if n, err := strconv.Atoi(os.Getenv("WEAKSUP_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 5000
}

// BenchmarkPipelines crawls benchRecords() records of tiny distinct images
// from a loopback server through every stage, embedded and on Prism, and
// reports records/s and CPU seconds of each; WEAKSUP_BENCH_DRIVER=beam or
// embedded runs one only (for peak-memory measurements).
func BenchmarkPipelines(b *testing.B) {
	srv := tinyImageServer()
	defer srv.Close()
	n := benchRecords()
	dir := b.TempDir()
	input := filepath.Join(dir, "records.jsonl")
	if err := writeBenchRecords(input, srv.URL, n); err != nil {
		b.Fatal(err)
	}
	cfg := pipeline.DefaultConfig()
	cfg.Ingest.Input = input
	cfg.Ingest.AllowPrivate = true
	cfg.Ingest.PerHost = 64
	cfg.Ingest.MinSide = 16
	cfg.Ingest.ImageSize = 0
	cfg.Canonicalize.VocabSize = 1000
	cfg.Shards.ShardMB = 64
	only := os.Getenv("WEAKSUP_BENCH_DRIVER")
	for i := 0; i < b.N; i++ {
		if only == "" || only == "embedded" {
			wd := workdir.Dir(filepath.Join(dir, fmt.Sprintf("embedded-%d", i)))
			t0, c0 := time.Now(), cpuTime()
			r := &pipeline.Runner{Workdir: wd, Stages: cfg.Stages()}
			if err := r.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			wall, cpu := time.Since(t0), cpuTime()-c0
			b.ReportMetric(float64(n)/wall.Seconds(), "embedded-records/s")
			b.ReportMetric(cpu.Seconds(), "embedded-cpu-s")
			for _, s := range pipeline.StageNames() {
				rec, ok, err := pipeline.ReadRecord(wd, s)
				if err == nil && ok {
					b.Logf("embedded %-12s %6.2fs %s", s, rec.Seconds, pipeline.FormatCounts(rec.Counts))
				}
			}
		}
		if only == "" || only == "beam" {
			t0, c0 := time.Now(), cpuTime()
			res, err := Run(context.Background(), Options{Workdir: filepath.Join(dir, fmt.Sprintf("beam-%d", i)), Config: cfg, Runner: "prism"})
			if err != nil {
				b.Fatal(err)
			}
			wall, cpu := time.Since(t0), cpuTime()-c0
			b.ReportMetric(float64(n)/wall.Seconds(), "beam-records/s")
			b.ReportMetric(cpu.Seconds(), "beam-cpu-s")
			b.Logf("beam: %d chunks, %.1fs wall, %.1f CPU-s, %s", res.Chunks, wall.Seconds(), cpu.Seconds(), pipeline.FormatCounts(res.Counters))
		}
	}
}
