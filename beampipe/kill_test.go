package beampipe

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"weaksup/demo"
	"weaksup/storage"
)

// countingServer serves a world's crawl images, counting requests per
// path. After budget requests it holds every further request until
// release, so a crawl is certainly mid-run while it is held.
type countingServer struct {
	*httptest.Server
	dir string

	mu      sync.Mutex
	counts  map[string]int
	served  int
	budget  int
	waiting int
	hold    chan struct{}
}

func newCountingServer(t *testing.T, dir string, budget int) *countingServer {
	s := &countingServer{dir: dir, counts: map[string]int{}, budget: budget, hold: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() { s.release(); s.Close() })
	return s
}

func (s *countingServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counts[r.URL.Path]++
	held := s.budget >= 0 && s.served >= s.budget
	if held {
		s.waiting++
	} else {
		s.served++
	}
	hold := s.hold
	s.mu.Unlock()
	if held {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	name := strings.TrimPrefix(r.URL.Path, "/img/")
	http.ServeFile(w, r, filepath.Join(s.dir, demo.ImagesDir, filepath.Base(name)))
}

func (s *countingServer) held() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting > 0
}

func (s *countingServer) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.budget >= 0 {
		s.budget = -1
		close(s.hold)
	}
}

func (s *countingServer) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// A Beam crawl killed with SIGKILL mid-run and run again fetches none of
// the records of the chunks it finished before it was killed.
func TestKilledCrawlResumesByChunk(t *testing.T) {
	w := world(t)
	srv := newCountingServer(t, w.Dir, 150)
	dir := t.TempDir()
	input, err := w.WriteCrawl(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "crawl.jsonl")
	if err := os.WriteFile(mine, readFile(t, input), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{Workdir: filepath.Join(dir, "work"), Config: testConfig(w, mine), ChunkLines: 20, Runner: "prism"}
	o.Config.Ingest.Concurrency = 4
	spec, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once the server holds requests (the budget is spent, so the
	// crawl is mid-run) and some chunk has been written.
	markers := func() []string {
		m, _ := filepath.Glob(filepath.Join(ChunkDir(o.Workdir), "chunk-*.json"))
		return m
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !srv.held() || len(markers()) == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("crawl process made no progress: held %v, %d chunks written", srv.held(), len(markers()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("crawl process ended with %v, want killed by SIGKILL", err)
	}
	srv.release()

	finished := markers()
	wd, err := storage.Open(context.Background(), o.Workdir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wd.Close()
	var urls []string
	for _, m := range finished {
		out, done, err := readChunk(context.Background(), wd, "beam/chunks/"+filepath.Base(m))
		if err != nil || !done {
			t.Fatalf("chunk %s after the kill: done %v, %v", m, done, err)
		}
		for _, r := range out.Recs {
			urls = append(urls, strings.TrimPrefix(r.URL, srv.URL))
		}
	}
	before := srv.snapshot()

	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	after := srv.snapshot()
	for _, u := range urls {
		if after[u] != before[u] {
			t.Errorf("%s of a finished chunk fetched %d more times by the rerun", u, after[u]-before[u])
		}
	}
	t.Logf("%d of %d chunks finished before the kill (%d records); rerun counters %v", len(finished), res.Chunks, len(urls), res.Counters)
	if got := res.Counters["ingest/chunks_skipped"]; got != int64(len(finished)) {
		t.Errorf("rerun skipped %d chunks, want the %d finished ones", got, len(finished))
	}
	if res.Counters["ingest/chunks_crawled"] == 0 || len(finished) == res.Chunks {
		t.Errorf("the kill left nothing to crawl again (%d of %d chunks finished)", len(finished), res.Chunks)
	}
}
