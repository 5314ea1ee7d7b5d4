package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"weaksup/store"
	"weaksup/store/storetest"
	"weaksup/workdir"
)

// testConfig is a crawl config with small timeouts for loopback tests.
func testConfig(input string) Config {
	c := DefaultConfig()
	c.Input = input
	c.Concurrency = 8
	c.PerHost = 8
	c.AllowPrivate = true
	c.ConnectTimeout = time.Second
	c.HeaderTimeout = 500 * time.Millisecond // well above /slow-ok on a busy machine
	c.FetchTimeout = time.Second
	c.SpeedLimit = 1000
	c.SpeedTime = 300 * time.Millisecond
	c.MaxBodyBytes = 100 << 10
	c.Retries = 2
	c.BackoffBase = 5 * time.Millisecond
	c.BackoffMax = 2 * time.Second
	c.MaxAttempts = 5
	c.ImageSize = 32
	c.MinSide = 16
	c.FlushRecords = 4
	c.FlushInterval = 20 * time.Millisecond
	c.Contact = "mailto:crawl@example.org"
	return c
}

// patient returns c with limits no healthy loopback response comes near
// on a loaded machine or under the race detector, for tests of what the
// crawl does with good hosts: testConfig's short limits are for the tests
// of slow and stalling ones.
func patient(c Config) Config {
	c.HeaderTimeout = 30 * time.Second
	c.FetchTimeout = time.Minute
	c.SpeedTime = 10 * time.Second
	return c
}

// writeJSONL writes records as JSONL into dir and returns the path.
func writeJSONL(t testing.TB, dir string, recs []map[string]any) string {
	t.Helper()
	var b bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	path := filepath.Join(dir, "records.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// faultCases maps a server path to the outcome and request count it must
// end with under testConfig (Retries 2: three requests for a transient
// failure, two for one that timed out).
var faultCases = []struct {
	path     string
	outcome  string
	attempts int
}{
	{"/img/1.jpg", "ok", 1},
	{"/png", "ok", 1},
	{"/gif", "ok", 1},
	{"/slow-ok", "ok", 1},
	{"/redirect", "ok", 1},
	{"/jpeg-as-html", "ok", 1},
	{"/optout-other", "ok", 1},
	{"/500-then-ok", "ok", 2},
	{"/429-wait", "ok", 2},
	{"/404", "http_404", 1},
	{"/410", "http_410", 1},
	{"/403", "http_403", 1},
	{"/slow-header", "timeout", 2},
	{"/steady-long", "timeout", 2},
	{"/slow-body", "too_slow", 2},
	{"/drip", "too_slow", 2},
	{"/429-long", "http_429", 1},
	{"/503", "http_503", 3},
	{"/truncated", "truncated", 3},
	{"/html-as-jpeg", "not_image", 1},
	{"/bomb.png", "too_many_pixels", 1},
	{"/tiny.png", "too_small", 1},
	{"/loop", "too_many_redirects", 1},
	{"/redirect-ftp", "bad_scheme", 1},
	{"/optout-noai", "robots_optout", 1},
	{"/optout-ours", "robots_optout", 1},
	{"/huge", "too_large", 1},
	{"/huge-chunked", "too_large", 1},
}

func TestCrawlFaults(t *testing.T) {
	srv := newFaultServer(t)
	dir := t.TempDir()
	var recs []map[string]any
	for i, c := range faultCases {
		recs = append(recs, map[string]any{"id": fmt.Sprintf("r%02d", i), "url": srv.URL + c.path, "caption": "a #tag" + fmt.Sprint(i)})
	}
	recs = append(recs,
		map[string]any{"id": "ftp", "url": "ftp://example.com/a.jpg"},
		map[string]any{"id": "badurl", "url": "http://[::1"},
		map[string]any{"id": "r00", "url": srv.URL + "/img/99.jpg"}, // repeated id
	)
	input := writeJSONL(t, dir, recs)
	// A bad line and a line without URL go through the run as counts.
	f, _ := os.OpenFile(input, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{broken\n{\"id\":\"nourl\"}\n")
	f.Close()

	st := storetest.Open(t, workdir.Dir(dir))
	defer st.Close()
	res, err := Run(context.Background(), st, workdir.Dir(dir), testConfig(input), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range faultCases {
		id := fmt.Sprintf("r%02d", i)
		rec, err := st.Record(id)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if rec.Outcome != c.outcome || rec.Attempts != c.attempts {
			t.Errorf("%s: outcome %q after %d requests, want %q after %d", c.path, rec.Outcome, rec.Attempts, c.outcome, c.attempts)
		}
		wantHits := c.attempts
		if c.path == "/loop" {
			wantHits = 1 + 5 // the request and the redirects followed
		}
		if got := srv.count(c.path); got != wantHits {
			t.Errorf("%s: server saw %d requests, want %d", c.path, got, wantHits)
		}
		if want := []string{fmt.Sprintf("tag%d", i)}; !reflect.DeepEqual(rec.RawTags, want) {
			t.Errorf("%s: raw tags %q, want %q", c.path, rec.RawTags, want)
		}
		if want := fmt.Sprintf("records.jsonl:%d", i+1); rec.Source != want {
			t.Errorf("%s: source %q, want %q", c.path, rec.Source, want)
		}
		img, err := st.Image(id)
		if c.outcome != "ok" {
			if err == nil {
				t.Errorf("%s: failed record has an image", c.path)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		dec, err := jpeg.Decode(bytes.NewReader(img))
		if err != nil {
			t.Fatalf("%s: stored image: %v", c.path, err)
		}
		if b := dec.Bounds(); min(b.Dx(), b.Dy()) != 32 || b.Dx() != rec.Width || b.Dy() != rec.Height {
			t.Errorf("%s: stored %v, record %dx%d, want shorter side 32", c.path, b, rec.Width, rec.Height)
		}
		if rec.SHA256 == [32]byte{} || rec.PHash == 0 {
			t.Errorf("%s: missing hashes: %+v", c.path, rec)
		}
	}
	for id, want := range map[string]string{"ftp": "bad_scheme", "badurl": "bad_url"} {
		if rec, err := st.Record(id); err != nil || rec.Outcome != want {
			t.Errorf("%s: got %+v, %v; want outcome %s", id, rec, err, want)
		}
	}
	if n := srv.count("/img/99.jpg"); n != 0 {
		t.Errorf("repeated id was fetched %d times, want 0", n)
	}
	if res.RecordsRead != int64(len(recs)) || res.Outcomes[store.OutcomeOK] != 9 || res.Outcomes[OutcomeTimeout] != 2 ||
		res.Outcomes[OutcomeTooSlow] != 2 || res.Skipped[SkipDuplicateID] != 1 || res.LineErrors[ReasonBadLine] != 1 ||
		res.LineErrors[ReasonNoURL] != 1 {
		t.Errorf("stats: %d records read, outcomes %v, skipped %v, line errors %v; want %d read, 9 ok, 2 timeouts, 2 too slow, 1 duplicate id, 1 bad line, 1 without URL",
			res.RecordsRead, res.Outcomes, res.Skipped, res.LineErrors, len(recs))
	}
	// The stage record shows them all under their names.
	counts := res.Counts()
	wantCounts := map[string]int64{"ok": 9, "duplicate_id": 1, "bad_line": 1, "no_url": 1, "records_read": int64(len(recs)), "timeout": 2, "too_slow": 2}
	for k, v := range wantCounts {
		if counts[k] != v {
			t.Errorf("counts[%q] = %d, want %d (all: %v)", k, counts[k], v, counts)
		}
	}
	for ua := range srv.agents {
		if !strings.HasPrefix(ua, "weaksup/") || !strings.Contains(ua, "crawl@example.org") {
			t.Errorf("User-Agent %q does not name weaksup and the contact", ua)
		}
	}
	// The stats JSON is written and agrees with the counts.
	files, _ := filepath.Glob(filepath.Join(workdir.Dir(dir).IngestStats(), "*.json"))
	if len(files) != 1 {
		t.Fatalf("stats files: %v", files)
	}
	var stats Stats
	b, _ := os.ReadFile(files[0])
	if err := json.Unmarshal(b, &stats); err != nil {
		t.Fatal(err)
	}
	if stats.Outcomes["ok"] != 9 || len(stats.Hosts) != 1 || stats.Hosts[0].OK != 9 || stats.BytesDownloaded == 0 {
		t.Errorf("stats: outcomes %v hosts %+v bytes %d", stats.Outcomes, stats.Hosts, stats.BytesDownloaded)
	}
}

// TestCrawlResume reruns a crawl: finished and permanently failed records
// are not fetched again, transient failures are, until MaxAttempts; a
// drip-fed download is tried twice per run whatever Retries says.
func TestCrawlResume(t *testing.T) {
	srv := newFaultServer(t)
	dir := t.TempDir()
	input := writeJSONL(t, dir, []map[string]any{
		{"id": "ok", "url": srv.URL + "/img/1.jpg"},
		{"id": "gone", "url": srv.URL + "/404"},
		{"id": "busy", "url": srv.URL + "/503"},
		{"id": "slow", "url": srv.URL + "/drip"},
	})
	cfg := testConfig(input)
	cfg.Retries = 3     // four requests per run, two for a timeout
	cfg.MaxAttempts = 5 // two runs: 4 + 1, or 2 + 2 + 1
	st := storetest.Open(t, workdir.Dir(dir))
	defer st.Close()
	wantHits := []map[string]int{
		{"/img/1.jpg": 1, "/404": 1, "/503": 4, "/drip": 2},
		{"/img/1.jpg": 1, "/404": 1, "/503": 5, "/drip": 4},
		{"/img/1.jpg": 1, "/404": 1, "/503": 5, "/drip": 5},
		{"/img/1.jpg": 1, "/404": 1, "/503": 5, "/drip": 5},
	}
	wantSkipped := []int64{0, 2, 3, 4}
	for run := range 4 {
		stats, err := Run(context.Background(), st, workdir.Dir(dir), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		for path, want := range wantHits[run] {
			if got := srv.count(path); got != want {
				t.Errorf("run %d: %s requested %d times in all, want %d", run+1, path, got, want)
			}
		}
		if stats.Skipped[SkipDone] != wantSkipped[run] {
			t.Errorf("run %d: skipped %d, want %d", run+1, stats.Skipped[SkipDone], wantSkipped[run])
		}
	}
	if rec, _ := st.Record("busy"); rec.Outcome != "http_503" || rec.Attempts != 5 {
		t.Errorf("busy: %s after %d requests, want http_503 after 5", rec.Outcome, rec.Attempts)
	}
	if rec, _ := st.Record("slow"); rec.Outcome != OutcomeTooSlow || rec.Attempts != 5 {
		t.Errorf("slow: %s after %d requests, want too_slow after 5", rec.Outcome, rec.Attempts)
	}
}

// TestCrawlRefusesPrivate checks the default: loopback is not fetched.
func TestCrawlRefusesPrivate(t *testing.T) {
	srv := newFaultServer(t)
	dir := t.TempDir()
	input := writeJSONL(t, dir, []map[string]any{
		{"id": "a", "url": srv.URL + "/img/1.jpg"},
		{"id": "b", "url": strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/img/2.jpg"},
		{"id": "c", "url": srv.URL + "/redirect"},
	})
	cfg := testConfig(input)
	cfg.AllowPrivate = false
	st := storetest.Open(t, workdir.Dir(dir))
	defer st.Close()
	if _, err := Run(context.Background(), st, workdir.Dir(dir), cfg, nil); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		if rec, err := st.Record(id); err != nil || rec.Outcome != OutcomePrivateAddress {
			t.Errorf("%s: got %+v, %v; want private_address", id, rec, err)
		}
	}
	if n := srv.totalHits(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

// TestCrawlPerHostLimit checks that no more than PerHost requests reach
// one host at once, however many are in flight overall.
func TestCrawlPerHostLimit(t *testing.T) {
	srv := newFaultServer(t)
	srv.delay = 5 * time.Millisecond
	dir := t.TempDir()
	var recs []map[string]any
	for i := range 40 {
		recs = append(recs, map[string]any{"url": fmt.Sprintf("%s/img/%d.jpg", srv.URL, i)})
	}
	cfg := testConfig(writeJSONL(t, dir, recs))
	cfg.Concurrency = 16
	cfg.PerHost = 2
	st := storetest.Open(t, workdir.Dir(dir))
	defer st.Close()
	stats, err := Run(context.Background(), st, workdir.Dir(dir), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Outcomes[store.OutcomeOK] != 40 {
		t.Errorf("ok %d, want 40: %v", stats.Outcomes[store.OutcomeOK], stats.Counts())
	}
	if srv.maxInFlight > 2 {
		t.Errorf("%d requests in flight to one host, want <= 2", srv.maxInFlight)
	}
}
