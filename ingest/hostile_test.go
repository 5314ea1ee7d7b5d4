package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"weaksup/internal/testkit"
	"weaksup/store"
	"weaksup/store/storetest"
	"weaksup/workdir"
)

// hostileHost is a loopback HTTP server on an address of its own (so the
// crawl's per-host limit treats it as another host) that serves every
// request with one hostile behaviour and counts the requests.
type hostileHost struct {
	URL  string
	mu   sync.Mutex
	hits int
}

func (h *hostileHost) requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits
}

// newHostileHost serves handle on 127.0.0.<n> (127.0.0.1 where the system
// has no other loopback addresses).
func newHostileHost(t testing.TB, n int, handle http.HandlerFunc) *hostileHost {
	t.Helper()
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", n))
	if err != nil {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileHost{URL: "http://" + l.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.hits++
		h.mu.Unlock()
		handle(w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return h
}

// stall is how long a stalling host keeps silent: longer than any limit
// of the crawl, so only the crawl's limits end its requests.
const stall = 90 * time.Second

// stallHeaders accepts the request and sends nothing for 90 s.
func stallHeaders(img []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		wait(r, stall)
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(img)
	}
}

// stallBody sends the headers and the first 1 kB at once, then nothing
// for 90 s.
func stallBody(img []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", strconv.Itoa(len(img)))
		w.Write(img[:1<<10])
		w.(http.Flusher).Flush()
		wait(r, stall)
		w.Write(img[1<<10:])
	}
}

// dripBody sends the headers at once, then one byte every half second.
func dripBody(img []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { drip(w, r, img, 500*time.Millisecond) }
}

// TestHostileCrawl crawls 63 records of which 3 hosts stall for 90 s and 3
// drip one byte every half second, kills the crawl with SIGKILL mid-run
// and resumes it, with the limits scaled down so that it fits in make
// test. TestHostileCrawlDefaults (make e2e) runs it with the defaults.
func TestHostileCrawl(t *testing.T) {
	hostileCrawl(t, func(c *Config) {
		c.Concurrency = 16
		c.PerHost = 4
		c.HeaderTimeout = time.Second
		c.FetchTimeout = 30 * time.Second
		c.SpeedLimit = 1000
		c.SpeedTime = 500 * time.Millisecond
	})
}

// hostileCrawl runs the hostile crawl with testConfig changed by tune.
// Whatever the moment of the kill, the outcomes and the requests per URL
// are decided by the limits: every good record ends ok, the stalled and
// drip-fed ones end as timeouts after exactly two requests in the resumed
// run (a timed-out request is retried once per run), and the resumed run
// adds them to what the killed run stored. The wall time is logged.
func hostileCrawl(t *testing.T, tune func(*Config)) {
	srv := newFaultServer(t)
	srv.delay = 20 * time.Millisecond // keep the good host busy past the kill
	img := testkit.EncodeJPEG(t, testPattern(320, 240, 5), 90)
	if len(img) < 4<<10 {
		t.Fatalf("test image of %d bytes: too small to stall mid-body", len(img))
	}
	type hostile struct {
		host    *hostileHost
		outcome string
	}
	hostiles := []hostile{
		{newHostileHost(t, 2, stallHeaders(img)), OutcomeTimeout},
		{newHostileHost(t, 3, stallBody(img)), OutcomeTooSlow},
		{newHostileHost(t, 4, stallBody(img)), OutcomeTooSlow},
		{newHostileHost(t, 5, dripBody(img)), OutcomeTooSlow},
		{newHostileHost(t, 6, dripBody(img)), OutcomeTooSlow},
		{newHostileHost(t, 7, dripBody(img)), OutcomeTooSlow},
	}
	var recs []map[string]any
	wantOutcome := map[string]string{}
	hostileOf := map[string]*hostileHost{}
	for i := range 63 {
		id := fmt.Sprintf("h%02d", i)
		url := fmt.Sprintf("%s/img/%d.jpg", srv.URL, i)
		wantOutcome[id] = store.OutcomeOK
		if i%10 == 4 { // 4, 14, ..., 54: among the good ones
			h := hostiles[len(hostileOf)]
			url = h.host.URL + "/photo.jpg"
			wantOutcome[id] = h.outcome
			hostileOf[id] = h.host
		}
		recs = append(recs, map[string]any{"id": id, "url": url, "caption": fmt.Sprintf("#n%d", i)})
	}
	if len(hostileOf) != len(hostiles) {
		t.Fatalf("%d hostile records for %d hosts", len(hostileOf), len(hostiles))
	}
	cfg := func(input string) Config {
		c := testConfig(input)
		c.FlushRecords = 2
		tune(&c)
		return c
	}

	// The crawl process, killed once every hostile host has been asked and
	// 20 good images have been served.
	start := time.Now()
	dir := t.TempDir()
	spec, _ := json.Marshal(map[string]any{"Workdir": dir, "Config": cfg(writeJSONL(t, dir, recs))})
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCrawl$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(spec))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := func() bool {
		for _, h := range hostiles {
			if h.host.requests() == 0 {
				return false
			}
		}
		return srv.totalHits() >= 20
	}
	deadline := time.Now().Add(60 * time.Second)
	for !started() {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("crawl process reached no hostile host")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("crawl process ended with %v, want killed by SIGKILL", err)
	}
	killed := time.Since(start)
	killHits := map[string]int{}
	for id, h := range hostileOf {
		killHits[id] = h.requests()
	}

	// Resume in this process.
	st := storetest.Open(t, workdir.Dir(dir))
	defer st.Close()
	stats, err := Run(context.Background(), st, workdir.Dir(dir), cfg(writeJSONL(t, dir, recs)), nil)
	if err != nil {
		t.Fatal(err)
	}
	counts := stats.Counts()
	wall := time.Since(start)
	t.Logf("hostile crawl of %d records: %.1f s wall (killed after %.1f s, resumed in %.1f s); resumed run: %v",
		len(recs), wall.Seconds(), killed.Seconds(), (wall - killed).Seconds(), counts)

	for id, want := range wantOutcome {
		rec, err := st.Record(id)
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		if rec.Outcome != want {
			t.Errorf("%s (%s): outcome %q after %d requests, want %q", id, rec.URL, rec.Outcome, rec.Attempts, want)
		}
		h := hostileOf[id]
		if h == nil {
			continue
		}
		// The killed run stored the record after its two requests, or
		// stored nothing; the resumed run made two more either way.
		resumeHits := h.requests() - killHits[id]
		if resumeHits != maxTimedOutTries {
			t.Errorf("%s (%s): %d requests in the resumed run, want %d", id, rec.URL, resumeHits, maxTimedOutTries)
		}
		storedBefore := rec.Attempts - resumeHits
		if storedBefore != 0 && !(storedBefore == maxTimedOutTries && killHits[id] == maxTimedOutTries) {
			t.Errorf("%s (%s): %d requests recorded, %d made by the killed run and %d by the resumed one",
				id, rec.URL, rec.Attempts, killHits[id], resumeHits)
		}
	}
	if n := counts[store.OutcomeOK] + counts[SkipDone] + counts[OutcomeTimeout] + counts[OutcomeTooSlow]; n != int64(len(recs)) {
		t.Errorf("resumed run accounts for %d of %d records: %v", n, len(recs), counts)
	}
}
