package demo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Failure is how the server answers one image URL. It depends only on the
// server seed and the record id, so a crawl can be checked against it.
type Failure string

const (
	FailNone      Failure = "ok"
	FailNotFound  Failure = "not_found" // 404, always
	FailSlow      Failure = "slow"      // 200 after a delay
	FailFlaky     Failure = "flaky"     // 500 on the first one or two requests, then 200
	FailThrottled Failure = "throttled" // 429 with Retry-After on the first request, then 200
	FailTruncated Failure = "truncated" // 200 with the JPEG cut short
	FailGarbled   Failure = "garbled"   // 200 with the JPEG header overwritten
	FailNotImage  Failure = "not_image" // 200 with an HTML page
)

// ServerConfig sets how often each failure happens. Rates are fractions of
// URLs; what is left is served normally.
type ServerConfig struct {
	Seed          uint64
	Addr          string // listen address; default 127.0.0.1:0 (a free port)
	NotFoundRate  float64
	SlowRate      float64
	SlowDelay     time.Duration // mean delay of a slow URL (0.5x..1.5x)
	FlakyRate     float64
	ThrottledRate float64
	RetryAfter    time.Duration // sent with 429, whole seconds
	TruncatedRate float64
	GarbledRate   float64
	NotImageRate  float64
}

// DefaultServerConfig fails about one URL in seven, half of them for good.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{
		Seed: 1, NotFoundRate: 0.03, SlowRate: 0.02, SlowDelay: 800 * time.Millisecond,
		FlakyRate: 0.03, ThrottledRate: 0.02, RetryAfter: time.Second,
		TruncatedRate: 0.015, GarbledRate: 0.015, NotImageRate: 0.01,
	}
}

// Server serves a world's crawl images over HTTP on loopback at
// /img/<id>.jpg, failing some URLs on purpose. It is safe for concurrent use.
type Server struct {
	dir string
	cfg ServerConfig

	mu       sync.Mutex
	attempts map[string]int
	counts   map[int]int // requests by status code
	srv      *http.Server
	ln       net.Listener
	done     chan struct{}
}

// NewServer returns a server for the world in dir; call Start.
func NewServer(dir string, cfg ServerConfig) *Server {
	return &Server{dir: dir, cfg: cfg, attempts: map[string]int{}, counts: map[int]int{}, done: make(chan struct{})}
}

// Start listens and serves in the background until Close or until ctx ends.
func (s *Server) Start(ctx context.Context) error {
	addr := s.cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("start image server: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /img/{name}", s.serveImage)
	s.mu.Lock()
	s.ln = ln
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	srv := s.srv
	s.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	go srv.Serve(ln)
	return nil
}

// URL is the base URL of a started server ("http://127.0.0.1:41234").
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops the server; it is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	if srv != nil {
		close(s.done)
	}
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("close image server: %w", err)
	}
	return nil
}

// urlHash is a per-id number in [0,1) and a few spare bits.
func (s *Server) urlHash(id string) (float64, uint64) {
	h := fnv.New64a()
	h.Write([]byte(strconv.FormatUint(s.cfg.Seed, 10) + "/" + id))
	v := h.Sum64()
	v ^= v >> 29
	v *= 0xbf58476d1ce4e5b9
	v ^= v >> 32
	return float64(v>>11) / (1 << 53), v
}

// Mode is how the server answers the image of a record id.
func (s *Server) Mode(id string) Failure {
	x, _ := s.urlHash(id)
	c := s.cfg
	for _, m := range []struct {
		rate float64
		f    Failure
	}{
		{c.NotFoundRate, FailNotFound}, {c.SlowRate, FailSlow}, {c.FlakyRate, FailFlaky},
		{c.ThrottledRate, FailThrottled}, {c.TruncatedRate, FailTruncated},
		{c.GarbledRate, FailGarbled}, {c.NotImageRate, FailNotImage},
	} {
		if x < m.rate {
			return m.f
		}
		x -= m.rate
	}
	return FailNone
}

var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (s *Server) serveImage(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("name"), ".jpg")
	if !ok || !validID.MatchString(id) {
		s.reply(w, http.StatusNotFound, "text/plain", []byte("not found\n"))
		return
	}
	s.mu.Lock()
	s.attempts[id]++
	attempt := s.attempts[id]
	s.mu.Unlock()

	mode := s.Mode(id)
	_, bits := s.urlHash(id)
	switch mode {
	case FailNotFound:
		s.reply(w, http.StatusNotFound, "text/plain", []byte("not found\n"))
		return
	case FailFlaky:
		if attempt <= 1+int(bits&1) {
			s.reply(w, http.StatusInternalServerError, "text/plain", []byte("internal error\n"))
			return
		}
	case FailThrottled:
		if attempt == 1 {
			secs := max(1, int(s.cfg.RetryAfter/time.Second))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			s.reply(w, http.StatusTooManyRequests, "text/plain", []byte("slow down\n"))
			return
		}
	case FailSlow:
		d := time.Duration(float64(s.cfg.SlowDelay) * (0.5 + float64(bits%1000)/1000))
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	case FailNotImage:
		s.reply(w, http.StatusOK, "text/html; charset=utf-8", []byte("<!doctype html><html><body><h1>Sorry, this page isn't available.</h1></body></html>\n"))
		return
	}
	b, err := os.ReadFile(filepath.Join(s.dir, ImagesDir, id+".jpg"))
	if err != nil {
		s.reply(w, http.StatusNotFound, "text/plain", []byte("not found\n"))
		return
	}
	switch mode {
	case FailTruncated:
		b = b[:len(b)*(40+int(bits%30))/100]
	case FailGarbled:
		b = append([]byte(nil), b...)
		for i := 2; i < min(len(b), 160); i++ {
			b[i] = byte(bits >> (8 * (i % 8)))
		}
		b[2] = 0
	}
	s.reply(w, http.StatusOK, "image/jpeg", b)
}

func (s *Server) reply(w http.ResponseWriter, code int, ctype string, body []byte) {
	s.mu.Lock()
	s.counts[code]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}
