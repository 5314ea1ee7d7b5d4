package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"syscall"
	"testing"
	"time"

	"weaksup/store"
	"weaksup/store/storetest"
	"weaksup/workdir"
)

const helperEnv = "WEAKSUP_INGEST_CRAWL_HELPER"

// TestHelperCrawl is the crawl process TestCrawlSurvivesSIGKILL kills. It
// does nothing unless started by that test with its environment.
func TestHelperCrawl(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		return
	}
	var h struct {
		Workdir string
		Config  Config
	}
	if err := json.Unmarshal([]byte(spec), &h); err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, workdir.Dir(h.Workdir))
	if _, err := Run(context.Background(), st, workdir.Dir(h.Workdir), h.Config, os.Stderr); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// storedRecord is what a crawl leaves for one record, minus the time.
type storedRecord struct {
	store.Record
	Image [32]byte
}

func snapshot(t *testing.T, st *store.Store) map[string]storedRecord {
	t.Helper()
	out := map[string]storedRecord{}
	err := st.Records(func(r *store.Record) error {
		s := storedRecord{Record: *r}
		s.Updated = time.Time{}
		if img, err := st.Image(r.ID); err == nil {
			s.Image = sha256.Sum256(img)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		out[r.ID] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCrawlSurvivesSIGKILL kills a crawl process mid-run and shows that a
// resumed crawl ends with exactly the records of an uninterrupted one.
func TestCrawlSurvivesSIGKILL(t *testing.T) {
	srv := newFaultServer(t)
	var recs []map[string]any
	for i := range 120 {
		path := fmt.Sprintf("/img/%d.jpg", i)
		switch i % 10 {
		case 3:
			path = "/404"
		case 7:
			path = "/html-as-jpeg"
		}
		recs = append(recs, map[string]any{"id": fmt.Sprintf("k%03d", i), "url": srv.URL + path, "caption": fmt.Sprintf("#n%d", i)})
	}
	cfg := func(input string) Config {
		c := testConfig(input)
		c.Concurrency = 4
		c.HeaderTimeout = 30 * time.Second // held requests must not time out
		c.FetchTimeout = 30 * time.Second
		c.FlushRecords = 2 // store results almost as they come
		return c
	}

	// The uninterrupted crawl.
	refDir := t.TempDir()
	refStore := storetest.Open(t, workdir.Dir(refDir))
	if _, err := Run(context.Background(), refStore, workdir.Dir(refDir), cfg(writeJSONL(t, refDir, recs)), nil); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, refStore)
	refStore.Close()
	if len(want) != len(recs) {
		t.Fatalf("reference crawl stored %d records, want %d", len(want), len(recs))
	}

	// The killed crawl: the server answers 50 requests, then holds the
	// rest, so the process is certainly mid-run when it is killed.
	dir := t.TempDir()
	spec, _ := json.Marshal(map[string]any{"Workdir": dir, "Config": cfg(writeJSONL(t, dir, recs))})
	srv.holdAfter(50)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCrawl$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(spec))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !srv.held() {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("crawl process made no progress")
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let the finished records reach the store
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("crawl process ended with %v, want killed by SIGKILL", err)
	}
	srv.release()

	// Resume in this process.
	st := storetest.Open(t, workdir.Dir(dir))
	defer st.Close()
	stats, err := Run(context.Background(), st, workdir.Dir(dir), cfg(writeJSONL(t, dir, recs)), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("resumed crawl: %v", stats.Counts())
	if stats.Skipped[SkipDone] == 0 {
		t.Errorf("resumed crawl skipped no record: nothing the killed crawl stored survived (%v)", stats.Counts())
	}
	got := snapshot(t, st)
	if len(got) != len(want) {
		t.Errorf("resumed crawl has %d records, want %d", len(got), len(want))
	}
	for id, w := range want {
		if g, ok := got[id]; !ok || !reflect.DeepEqual(g, w) {
			t.Errorf("record %s:\n got %+v\nwant %+v", id, g, w)
		}
	}
}

// TestCrawlCancel stops a crawl through its context, as Ctrl-C does: Run
// returns the context's error after storing what it fetched, and a rerun
// finishes the rest without fetching the stored records again.
func TestCrawlCancel(t *testing.T) {
	srv := newFaultServer(t)
	dir := t.TempDir()
	var recs []map[string]any
	for i := range 30 {
		recs = append(recs, map[string]any{"id": fmt.Sprintf("c%02d", i), "url": fmt.Sprintf("%s/img/%d.jpg", srv.URL, i)})
	}
	cfg := testConfig(writeJSONL(t, dir, recs))
	cfg.Concurrency = 2
	cfg.HeaderTimeout = 30 * time.Second
	cfg.FetchTimeout = 30 * time.Second
	st := storetest.Open(t, workdir.Dir(dir))
	defer st.Close()

	srv.holdAfter(10)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for !srv.held() {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	stats, err := Run(ctx, st, workdir.Dir(dir), cfg, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled crawl returned %v, want context.Canceled", err)
	}
	// Up to 10 requests were answered; one still being read when the
	// cancel came is dropped, not stored half done.
	first := stats.Outcomes[store.OutcomeOK]
	if first < 1 || first > 10 || len(stats.Outcomes) != 1 || len(stats.Skipped) != 0 || len(stats.LineErrors) != 0 {
		t.Errorf("cancelled crawl: %v, want 1..10 ok records and nothing else", stats.Counts())
	}
	srv.release()
	stats, err = Run(context.Background(), st, workdir.Dir(dir), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Outcomes[store.OutcomeOK] != 30-first || stats.Skipped[SkipDone] != first {
		t.Errorf("rerun: %v, want %d ok and %d skipped", stats.Counts(), 30-first, first)
	}
	for i := range 30 {
		if n := srv.count(fmt.Sprintf("/img/%d.jpg", i)); n > 2 {
			t.Errorf("/img/%d.jpg requested %d times", i, n)
		}
	}
}
