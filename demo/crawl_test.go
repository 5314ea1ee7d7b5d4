package demo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

func readCrawl(t *testing.T, path string) []CrawlRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []CrawlRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r CrawlRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReposts(t *testing.T) {
	w := quickWorld(t)
	truth, err := w.Truth()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]TruthRecord{}
	for _, r := range truth {
		byID[r.ID] = r
	}
	n := 0
	for _, r := range truth {
		if r.Kind != "repost" {
			continue
		}
		n++
		src, ok := byID[r.Source]
		if !ok || src.Kind != "photo" {
			t.Errorf("%s: source %q is not a photo record", r.ID, r.Source)
			continue
		}
		a, _ := os.ReadFile(w.Path(r.Image))
		b, _ := os.ReadFile(w.Path(src.Image))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: bytes differ from %s", r.ID, r.Source)
		}
	}
	if n == 0 || n != w.Crawl.Reposts {
		t.Errorf("reposts: got %d, manifest says %d, want > 0", n, w.Crawl.Reposts)
	}
}
