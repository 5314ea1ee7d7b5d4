package demo

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func startServer(t *testing.T, dir string, cfg ServerConfig) *Server {
	t.Helper()
	s := NewServer(dir, cfg)
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("url %q, want loopback", s.URL())
	}
	return s
}

type response struct {
	code       int
	ctype      string
	retryAfter string
	body       []byte
}

func get(t *testing.T, url string) response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("get %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return response{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After"), b}
}

func decodes(b []byte) bool {
	_, err := jpeg.Decode(bytes.NewReader(b))
	return err == nil
}

// TestServerModes requests one URL of each failure mode and checks the
// sequence of answers a crawler with retries would see.
func TestServerModes(t *testing.T) {
	w := quickWorld(t)
	cfg := DefaultServerConfig()
	cfg.SlowDelay = 20 * time.Millisecond
	s := startServer(t, w.Dir, cfg)
	truth, err := w.Truth()
	if err != nil {
		t.Fatal(err)
	}
	first := map[Failure]string{}
	for _, r := range truth {
		if _, ok := first[s.Mode(r.ID)]; !ok {
			first[s.Mode(r.ID)] = r.ID
		}
	}
	tests := []struct {
		mode  Failure
		codes []int // status of successive requests
		image bool  // the last answer decodes as the stored image
	}{
		{FailNone, []int{200, 200}, true},
		{FailNotFound, []int{404, 404, 404}, false},
		{FailSlow, []int{200}, true},
		{FailThrottled, []int{429, 200}, true},
		{FailTruncated, []int{200, 200}, false},
		{FailGarbled, []int{200, 200}, false},
		{FailNotImage, []int{200}, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			id, ok := first[tt.mode]
			if !ok {
				t.Fatalf("no record of the quick world has mode %s", tt.mode)
			}
			want, err := os.ReadFile(w.Path(ImagesDir + "/" + id + ".jpg"))
			if err != nil {
				t.Fatal(err)
			}
			var last response
			for i, code := range tt.codes {
				last = get(t, ImageURL(s.URL(), id))
				if last.code != code {
					t.Fatalf("request %d: status %d, want %d", i+1, last.code, code)
				}
			}
			if got := bytes.Equal(last.body, want) && decodes(last.body); got != tt.image {
				t.Errorf("served the stored image: %v, want %v (%d bytes, %s)", got, tt.image, len(last.body), last.ctype)
			}
			switch tt.mode {
			case FailThrottled:
				s2 := startServer(t, w.Dir, cfg) // a fresh server: first request again
				if r := get(t, ImageURL(s2.URL(), id)); r.retryAfter != "1" {
					t.Errorf("Retry-After %q, want 1", r.retryAfter)
				}
			case FailTruncated, FailGarbled:
				if last.ctype != "image/jpeg" || decodes(last.body) {
					t.Errorf("corrupt answer: type %s, decodes %v; want image/jpeg that does not decode", last.ctype, decodes(last.body))
				}
			case FailNotImage:
				if !strings.HasPrefix(last.ctype, "text/html") {
					t.Errorf("content type %q, want text/html", last.ctype)
				}
			}
		})
	}
	t.Run("flaky", func(t *testing.T) {
		id, ok := first[FailFlaky]
		if !ok {
			t.Fatalf("no record of the quick world has mode flaky")
		}
		fails := 0
		for i := 0; i < 4; i++ {
			r := get(t, ImageURL(s.URL(), id))
			switch {
			case r.code == 500 && fails == i:
				fails++
			case r.code == 200 && fails > 0 && decodes(r.body):
			default:
				t.Fatalf("request %d: status %d after %d failures", i+1, r.code, fails)
			}
		}
		if fails < 1 || fails > 2 {
			t.Errorf("%d 500s before success, want 1 or 2", fails)
		}
	})
}

func TestServerBadPaths(t *testing.T) {
	w := quickWorld(t)
	s := startServer(t, w.Dir, ServerConfig{})
	for _, p := range []string{"/img/..%2Fworld.json", "/img/r0000001.png", "/img/nosuch.jpg", "/world.json", "/img/a%20b.jpg"} {
		if r := get(t, s.URL()+p); r.code != 404 {
			t.Errorf("%s: status %d, want 404", p, r.code)
		}
	}
	s.mu.Lock()
	got := s.counts[404]
	s.mu.Unlock()
	if got < 3 {
		t.Errorf("counted %d 404s, want at least 3", got)
	}
}

// TestServerModeRates checks each mode's share of many ids follows the
// configured rate.
func TestServerModeRates(t *testing.T) {
	cfg := DefaultServerConfig()
	s := NewServer(t.TempDir(), cfg)
	const n = 50000
	got := map[Failure]int{}
	for i := 0; i < n; i++ {
		got[s.Mode(fmt.Sprintf("r%07d", i))]++
	}
	want := map[Failure]float64{
		FailNotFound: cfg.NotFoundRate, FailSlow: cfg.SlowRate, FailFlaky: cfg.FlakyRate,
		FailThrottled: cfg.ThrottledRate, FailTruncated: cfg.TruncatedRate, FailGarbled: cfg.GarbledRate,
		FailNotImage: cfg.NotImageRate,
	}
	var failing float64
	for m, rate := range want {
		failing += rate
		if frac := float64(got[m]) / n; math.Abs(frac-rate) > 0.004 {
			t.Errorf("%s: %.4f of ids, want %.4f", m, frac, rate)
		}
	}
	if frac := float64(got[FailNone]) / n; math.Abs(frac-(1-failing)) > 0.006 {
		t.Errorf("ok: %.4f of ids, want %.4f", frac, 1-failing)
	}
	other := cfg
	other.Seed++
	s2 := NewServer(t.TempDir(), other)
	same := 0
	for i := 0; i < 1000; i++ {
		id := fmt.Sprintf("r%07d", i)
		if s.Mode(id) == s2.Mode(id) {
			same++
		}
	}
	if same == 1000 {
		t.Errorf("another seed gave the same modes")
	}
}

func TestServerClose(t *testing.T) {
	w := quickWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := NewServer(w.Dir, ServerConfig{})
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	url := ImageURL(s.URL(), "r0000001")
	if r := get(t, url); r.code != 200 {
		t.Fatalf("status %d, want 200", r.code)
	}
	cancel()
	stopped := false
	for i := 0; i < 1000 && !stopped; i++ {
		client := http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Get(url)
		if err != nil {
			stopped = true
			break
		}
		resp.Body.Close()
		time.Sleep(10 * time.Millisecond)
	}
	if !stopped {
		t.Errorf("server still answers after its context ended")
	}
	if err := s.Close(); err != nil {
		t.Errorf("close after stop: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}
