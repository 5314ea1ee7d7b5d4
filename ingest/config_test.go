package ingest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weaksup/store"
	"weaksup/store/storetest"
	"weaksup/workdir"
)

func TestConfigFlags(t *testing.T) {
	tests := []struct {
		args    []string
		check   func(Config) bool
		wantErr string // substring of Validate's error; "" = valid
	}{
		{[]string{"--input", "x.jsonl"}, func(c Config) bool {
			return c.Concurrency == 64 && c.ImageSize == 256 && c.MaxBodyBytes == 20<<20 && c.MaxRedirects == 5
		}, ""},
		{[]string{"--input", "x.jsonl", "--image-size", "none"}, func(c Config) bool { return c.ImageSize == 0 }, ""},
		{[]string{"--input", "x.jsonl", "--image-size", "224", "--per-host", "2", "--per-host-interval", "250ms"}, func(c Config) bool {
			return c.ImageSize == 224 && c.PerHost == 2 && c.HostInterval == 250*time.Millisecond
		}, ""},
		{[]string{}, nil, "--input"},
		{[]string{"--input", "x", "--quality", "0"}, nil, "--quality"},
		{[]string{"--input", "x", "--concurrency", "0"}, nil, "--concurrency"},
		{[]string{"--input", "x", "--ingest-partition", "2/2"}, nil, "--ingest-partition"},
		{[]string{"--input", "x"}, func(c Config) bool { return c.SpeedLimit == 1000 && c.SpeedTime == 5*time.Second }, ""},
		{[]string{"--input", "x", "--speed-limit", "-1"}, nil, "--speed-limit"},
		{[]string{"--input", "x", "--speed-time", "0s"}, nil, "--speed-time"},
		{[]string{"--input", "x", "--speed-limit", "0", "--speed-time", "0s"}, func(c Config) bool { return c.SpeedLimit == 0 }, ""},
		{[]string{"--input", "x", "--ingest-partition", "1/4"}, func(c Config) bool { i, n, _ := c.partition(); return i == 1 && n == 4 }, ""},
	}
	for _, tt := range tests {
		var c Config
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		c.RegisterFlags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		err := c.Validate()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tt.args, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q: error %v, want one naming %s", tt.args, err, tt.wantErr)
		case tt.check != nil && !tt.check(c):
			t.Errorf("%q: config %+v", tt.args, c)
		}
	}
	var s sizeFlag
	if err := s.Set("-3"); err == nil {
		t.Error("--image-size -3 accepted")
	}
}

func TestFingerprint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.jsonl")
	os.WriteFile(path, []byte("{}\n"), 0o644)
	c := Config{Input: path}
	a, err := c.Fingerprint()
	if err != nil || a == "" {
		t.Fatalf("Fingerprint: %q, %v", a, err)
	}
	if b, _ := c.Fingerprint(); b != a {
		t.Errorf("fingerprint changed without a change: %s, %s", a, b)
	}
	os.WriteFile(path, []byte("{}\n{}\n"), 0o644)
	if b, _ := c.Fingerprint(); b == a {
		t.Error("fingerprint unchanged after the input changed")
	}
	if _, err := (Config{Input: path + ".missing"}).Fingerprint(); err == nil {
		t.Error("fingerprint of a missing file: nil error")
	}
}

// TestCrawlPartitions crawls two halves of one input into one store:
// together they hold every record once, each half skipping the other's.
func TestCrawlPartitions(t *testing.T) {
	srv := newFaultServer(t)
	dir := t.TempDir()
	var recs []map[string]any
	for i := range 40 {
		recs = append(recs, map[string]any{"id": fmt.Sprintf("p%02d", i), "url": fmt.Sprintf("%s/img/%d.jpg", srv.URL, i)})
	}
	cfg := patient(testConfig(writeJSONL(t, dir, recs)))
	st := storetest.Open(t, workdir.Dir(dir))
	defer st.Close()
	var ok, other int64
	for _, part := range []string{"0/2", "1/2"} {
		cfg.Partition = part
		stats, err := Run(context.Background(), st, workdir.Dir(dir), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, skipped := stats.Outcomes[store.OutcomeOK], stats.Skipped[SkipPartition]
		if n == 0 || n+skipped != 40 {
			t.Errorf("partition %s: %v", part, stats.Counts())
		}
		ok += n
		other += skipped
	}
	if ok != 40 || other != 40 || srv.totalHits() != 40 {
		t.Errorf("ok %d, skipped %d, requests %d; want 40 each", ok, other, srv.totalHits())
	}
}
