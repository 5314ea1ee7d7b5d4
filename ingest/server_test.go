package ingest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"weaksup/internal/testkit"
)

// faultServer is a loopback image server whose paths inject faults. It
// counts requests per path and the most requests it had in flight.
type faultServer struct {
	*httptest.Server
	tb          testing.TB // the test it serves; told of fixture failures
	mu          sync.Mutex
	hits        map[string]int
	first       map[string]time.Time
	agents      map[string]bool
	inFlight    int
	maxInFlight int
	jpegs       map[int][]byte // cached generated images by seed
	delay       time.Duration  // added to every /img/ response
	total       int            // requests since gateAfter was set
	gateAfter   int            // requests after this many wait for gate
	gate        chan struct{}  // closed to let held requests through
}

// holdAfter makes every request after the next n wait until release.
func (s *faultServer) holdAfter(n int) {
	s.mu.Lock()
	s.total, s.gateAfter, s.gate = 0, n, make(chan struct{})
	s.mu.Unlock()
}

// held reports whether a request is being held.
func (s *faultServer) held() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate != nil && s.total > s.gateAfter
}

func (s *faultServer) release() {
	s.mu.Lock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
	s.mu.Unlock()
}

func newFaultServer(t testing.TB) *faultServer {
	s := &faultServer{tb: t, hits: map[string]int{}, first: map[string]time.Time{}, agents: map[string]bool{}, jpegs: map[int][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *faultServer) jpeg(seed int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.jpegs[seed]
	if !ok {
		b = testkit.EncodeJPEG(s.tb, testPattern(64, 48, seed), 85)
		s.jpegs[seed] = b
	}
	return b
}

func (s *faultServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func (s *faultServer) totalHits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.hits {
		n += v
	}
	return n
}

// wait sleeps for d or until the client goes away.
func wait(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// drip sends the headers of b at once, then its bytes one at a time, one
// every interval, until the client goes away.
func drip(w http.ResponseWriter, r *http.Request, b []byte, interval time.Duration) {
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := range b {
		select {
		case <-tick.C:
		case <-r.Context().Done():
			return
		}
		if _, err := w.Write(b[i : i+1]); err != nil {
			return
		}
		w.(http.Flusher).Flush()
	}
}

func (s *faultServer) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	s.mu.Lock()
	s.hits[path]++
	n := s.hits[path]
	if n == 1 {
		s.first[path] = time.Now()
	}
	first := s.first[path]
	s.agents[r.UserAgent()] = true
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	delay := s.delay
	s.total++
	var gate chan struct{}
	if s.gate != nil && s.total > s.gateAfter {
		gate = s.gate
	}
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()

	image := func(ctype string, b []byte) {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	}
	seedOf := func(p string) int {
		seed, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/img/"), ".jpg"))
		return seed
	}
	switch {
	case strings.HasPrefix(path, "/img/"):
		if delay > 0 {
			wait(r, delay)
		}
		image("image/jpeg", s.jpeg(seedOf(path)))
	case path == "/png":
		image("image/png", encodePNG(testPattern(40, 60, 2)))
	case path == "/gif":
		image("image/gif", encodeGIF(testPattern(50, 50, 3)))
	case path == "/404":
		http.NotFound(w, r)
	case path == "/410":
		w.WriteHeader(http.StatusGone)
	case path == "/403":
		w.WriteHeader(http.StatusForbidden)
	case path == "/slow-ok":
		wait(r, 20*time.Millisecond)
		image("image/jpeg", s.jpeg(7))
	case path == "/slow-header":
		wait(r, 5*time.Second)
		image("image/jpeg", s.jpeg(7))
	case path == "/slow-body":
		b := s.jpeg(8)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:len(b)/2])
		w.(http.Flusher).Flush()
		wait(r, 5*time.Second)
	case path == "/drip":
		// Headers at once, then one byte every half second.
		drip(w, r, s.jpeg(17), 500*time.Millisecond)
	case path == "/steady-long":
		// Fast enough for any speed limit, too long for the fetch
		// timeout: 1 kB every 50 ms, 60 kB in all.
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", strconv.Itoa(60<<10))
		chunk := make([]byte, 1<<10)
		for range 60 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			wait(r, 50*time.Millisecond)
		}
	case path == "/429-wait":
		// Honours a client that waits as asked: earlier retries get 429 again.
		if n == 1 || time.Since(first) < time.Second {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		image("image/jpeg", s.jpeg(9))
	case path == "/429-long":
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	case path == "/500-then-ok":
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		image("image/jpeg", s.jpeg(10))
	case path == "/503":
		w.WriteHeader(http.StatusServiceUnavailable)
	case path == "/truncated":
		b := s.jpeg(11)
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", len(b))
		buf.Write(b[:len(b)/2])
		buf.Flush()
		conn.Close()
	case path == "/jpeg-as-html":
		image("text/html", s.jpeg(12))
	case path == "/html-as-jpeg":
		image("image/jpeg", []byte("<!doctype html><title>not an image</title>"))
	case path == "/bomb.png":
		image("image/png", pngHeaderOnly(20000, 20000))
	case path == "/tiny.png":
		image("image/png", encodePNG(testPattern(8, 8, 1)))
	case path == "/loop":
		http.Redirect(w, r, "/loop", http.StatusFound)
	case path == "/redirect":
		http.Redirect(w, r, "/img/13.jpg", http.StatusMovedPermanently)
	case path == "/redirect-ftp":
		http.Redirect(w, r, "ftp://example.com/a.jpg", http.StatusFound)
	case path == "/optout-noai":
		w.Header().Set("X-Robots-Tag", "noai")
		image("image/jpeg", s.jpeg(14))
	case path == "/optout-ours":
		w.Header().Add("X-Robots-Tag", "max-snippet: 20")
		w.Header().Add("X-Robots-Tag", "otherbot: noindex, weaksup: noimageai")
		image("image/jpeg", s.jpeg(15))
	case path == "/optout-other":
		w.Header().Set("X-Robots-Tag", "otherbot: noai, noindex")
		image("image/jpeg", s.jpeg(16))
	case path == "/huge":
		w.Header().Set("Content-Length", strconv.Itoa(1<<30))
		w.WriteHeader(http.StatusOK)
	case path == "/huge-chunked":
		w.Header().Set("Content-Type", "image/jpeg")
		chunk := make([]byte, 4096)
		for range 64 { // 256 KiB, over the tests' limit, then stop
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	default:
		http.NotFound(w, r)
	}
}
