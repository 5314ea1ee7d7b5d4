package demo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CrawlRecord is one line of crawl.jsonl, the input the ingest stage reads:
// either Tags (without '#') or a Caption with hashtags in free text.
type CrawlRecord struct {
	ID      string   `json:"id"`
	URL     string   `json:"url"`
	Tags    []string `json:"tags,omitempty"`
	Caption string   `json:"caption,omitempty"`
}

// TruthRecord is one line of truth.jsonl: what a crawl record really shows.
type TruthRecord struct {
	ID        string   `json:"id"`
	Image     string   `json:"image"` // relative to the world directory
	Kind      string   `json:"kind"`  // photo, repost, duplicate
	Shows     []string `json:"shows"` // wnids drawn in the image
	Tagged    []string `json:"tagged,omitempty"`
	Wrong     bool     `json:"wrong,omitempty"`  // the main tag names a concept not shown
	Source    string   `json:"source,omitempty"` // repost: original id; duplicate: target image
	Transform string   `json:"transform,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	Caption   string   `json:"caption,omitempty"`
}

func (rec *record) truth() TruthRecord {
	return TruthRecord{
		ID: rec.id, Image: filepath.ToSlash(filepath.Join(ImagesDir, rec.id+".jpg")), Kind: kindNames[rec.kind],
		Shows: rec.shows, Tagged: rec.tagged, Wrong: rec.wrong, Source: filepath.ToSlash(rec.source),
		Transform: rec.transform, Tags: rec.tags, Caption: rec.caption,
	}
}

// ImageURL is the URL the server answers for a crawl record's image.
func ImageURL(baseURL, id string) string {
	return strings.TrimRight(baseURL, "/") + "/img/" + id + ".jpg"
}

// Truth reads the ground truth of every crawl record, in crawl order.
func (w *World) Truth() ([]TruthRecord, error) {
	path := w.Path(TruthFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read truth: %w", err)
	}
	defer f.Close()
	var out []TruthRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var t TruthRecord
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			return nil, fmt.Errorf("parse %s line %d: %w", path, n, err)
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// WriteCrawl writes crawl.jsonl with image URLs under baseURL (the running
// server's URL) and returns its path.
func (w *World) WriteCrawl(baseURL string) (string, error) {
	truth, err := w.Truth()
	if err != nil {
		return "", err
	}
	path := w.Path(CrawlFile)
	err = writeJSONL(path, len(truth), func(i int) any {
		t := truth[i]
		return CrawlRecord{ID: t.ID, URL: ImageURL(baseURL, t.ID), Tags: t.Tags, Caption: t.Caption}
	})
	if err != nil {
		return "", err
	}
	return path, nil
}

func (w *World) writeCrawl(recs []*record, baseURL string) (string, error) {
	path := w.Path(CrawlFile)
	err := writeJSONL(path, len(recs), func(i int) any {
		r := recs[i]
		return CrawlRecord{ID: r.id, URL: ImageURL(baseURL, r.id), Tags: r.tags, Caption: r.caption}
	})
	if err != nil {
		return "", err
	}
	return path, nil
}

// writeJSONL writes n JSON lines atomically.
func writeJSONL(path string, n int, line func(int) any) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := 0; i < n; i++ {
		if err := enc.Encode(line(i)); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}
