package ingest

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/store"
	"weaksup/store/storetest"
	"weaksup/workdir"
)

// photoLike draws a w x h picture with texture, so its JPEG is about the
// size and decoding cost of a photograph rather than of a smooth gradient.
func photoLike(w, h, seed int) *image.RGBA {
	m := testPattern(w, h, seed)
	x := uint32(seed*2654435761 + 1)
	for i := 0; i < len(m.Pix); i += 4 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		n := int(x%48) - 24
		for c := range 3 {
			m.Pix[i+c] = uint8(min(max(int(m.Pix[i+c])+n, 0), 255))
		}
	}
	m.SetRGBA(0, 0, color.RGBA{A: 255})
	return m
}

// imageServer serves n distinct JPEGs of w x h at /i/<k>, for any k, and
// 404 elsewhere.
func imageServer(tb testing.TB, n, w, h int) *httptest.Server {
	imgs := make([][]byte, n)
	for i := range imgs {
		imgs[i] = testkit.EncodeJPEG(tb, photoLike(w, h, i+1), 85)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/i/") {
			http.NotFound(rw, r)
			return
		}
		k, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/i/"))
		b := imgs[k%n]
		rw.Header().Set("Content-Type", "image/jpeg")
		rw.Header().Set("Content-Length", strconv.Itoa(len(b)))
		rw.Write(b)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// BenchmarkCrawl crawls b.N records from a loopback server of 640x480
// JPEGs into a store, resizing to 256 px: the whole path from input line
// to stored record.
func BenchmarkCrawl(b *testing.B) {
	for _, size := range [][2]int{{640, 480}} {
		b.Run(fmt.Sprintf("size=%dx%d/target=256", size[0], size[1]), func(b *testing.B) {
			srv := imageServer(b, 32, size[0], size[1])
			dir := b.TempDir()
			var recs []map[string]any
			for i := range b.N {
				recs = append(recs, map[string]any{"id": strconv.Itoa(i), "url": fmt.Sprintf("%s/i/%d", srv.URL, i), "tags": []string{"x"}})
			}
			cfg := DefaultConfig()
			cfg.Input = writeJSONL(b, dir, recs)
			cfg.AllowPrivate = true
			cfg.PerHost = cfg.Concurrency // one host serves everything
			st := storetest.Open(b, workdir.Dir(dir))
			defer st.Close()
			cpu0 := testkit.CPUTime()
			b.ResetTimer()
			stats, err := Run(context.Background(), st, workdir.Dir(dir), cfg, nil)
			b.StopTimer()
			cpu := testkit.CPUTime() - cpu0
			if err != nil {
				b.Fatal(err)
			}
			if stats.Outcomes[store.OutcomeOK] != int64(b.N) {
				b.Fatalf("ok %d of %d: %v", stats.Outcomes[store.OutcomeOK], b.N, stats.Counts())
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
			// CPU time of the whole process (crawler, store and loopback
			// server) per image: what the crawl costs on a shared machine.
			b.ReportMetric(cpu.Seconds()*1000/float64(b.N), "cpu-ms/image")
		})
	}
}

// BenchmarkNormalize measures decode, resize, orientation, hash and
// encode of one downloaded image.
func BenchmarkNormalize(b *testing.B) {
	for _, size := range [][2]int{{640, 480}, {1600, 1200}} {
		b.Run(fmt.Sprintf("size=%dx%d/target=256", size[0], size[1]), func(b *testing.B) {
			data := testkit.EncodeJPEG(b, photoLike(size[0], size[1], 1), 85)
			cfg := ImageConfig{Size: 256, Quality: 90, MaxPixels: 50_000_000, MinSide: 64}
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for range b.N {
				if _, outcome := Normalize(data, cfg); outcome != "" {
					b.Fatal(outcome)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
