package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

var (
	sharedOnce  sync.Once
	sharedWorld *World
	sharedErr   error
)

// quickWorld generates the Quick world once for the tests that only read it.
func quickWorld(t *testing.T) *World {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "demo-world-")
		if err != nil {
			sharedErr = err
			return
		}
		sharedWorld, sharedErr = Generate(context.Background(), dir, Quick())
	})
	if sharedErr != nil {
		t.Fatalf("generate quick world: %v", sharedErr)
	}
	return sharedWorld
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedWorld != nil {
		os.RemoveAll(sharedWorld.Dir)
	}
	os.Exit(code)
}

// treeDigest hashes every file's path and bytes under dir.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(rel + "\x00"))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func smallConfig() WorldConfig {
	c := Quick()
	c.CrawlImages = 150
	c.TargetTrain, c.TargetVal = 3, 3
	c.Duplicates = 5
	c.BaseURL = "http://127.0.0.1:8080"
	return c
}

func TestGenerateDeterministic(t *testing.T) {
	cfg := smallConfig()
	a, b := t.TempDir(), t.TempDir()
	if _, err := Generate(context.Background(), a, cfg); err != nil {
		t.Fatalf("generate: %v", err)
	}
	if _, err := Generate(context.Background(), b, cfg); err != nil {
		t.Fatalf("generate again: %v", err)
	}
	if got, want := treeDigest(t, b), treeDigest(t, a); got != want {
		t.Errorf("same seed: digest %s, want %s", got, want)
	}
	cfg.Seed++
	c := t.TempDir()
	if _, err := Generate(context.Background(), c, cfg); err != nil {
		t.Fatalf("generate with another seed: %v", err)
	}
	if got, other := treeDigest(t, c), treeDigest(t, a); got == other {
		t.Errorf("seed %d and %d gave the same world", cfg.Seed, cfg.Seed-1)
	}
}

func TestTargetImagesAreNew(t *testing.T) {
	w := quickWorld(t)
	crawl := map[string]string{}
	truth, err := w.Truth()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range truth {
		b, err := os.ReadFile(w.Path(r.Image))
		if err != nil {
			t.Fatal(err)
		}
		crawl[string(b)] = r.ID
	}
	n := 0
	err = filepath.WalkDir(w.Path(w.Target.Dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if id, ok := crawl[string(b)]; ok {
			t.Errorf("target image %s has the bytes of crawl record %s", p, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(w.Target.Classes) * (w.Target.PerTrain + w.Target.PerVal); n != want {
		t.Errorf("target images: got %d, want %d", n, want)
	}
}

func TestWorldManifest(t *testing.T) {
	w := quickWorld(t)
	got, err := Load(w.Dir)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("loaded manifest differs from the generated world")
	}
	cfg := Quick()
	if len(w.Concepts) != cfg.Concepts {
		t.Errorf("concepts: got %d, want %d", len(w.Concepts), cfg.Concepts)
	}
	families := map[string]bool{}
	for _, c := range w.Concepts {
		families[c.Family] = true
		if len(c.TagForms) == 0 || c.Rank < 1 || c.Rank > len(w.Concepts) {
			t.Errorf("%s: %d tag forms, rank %d", c.WNID, len(c.TagForms), c.Rank)
		}
	}
	if len(families) != cfg.Concepts {
		t.Errorf("a %d-concept world spans %d families, want one each", cfg.Concepts, len(families))
	}
	for _, c := range w.Target.Classes {
		if _, ok := w.Concept(c); !ok {
			t.Errorf("target class %s is not a concept", c)
		}
		for _, split := range []struct {
			dir string
			n   int
		}{{w.Target.Train, cfg.TargetTrain}, {w.Target.Val, cfg.TargetVal}} {
			files, err := filepath.Glob(filepath.Join(w.Path(split.dir), c, "*.JPEG"))
			if err != nil || len(files) != split.n {
				t.Errorf("%s/%s: got %d images (%v), want %d", split.dir, c, len(files), err, split.n)
			}
		}
	}
	truth, err := w.Truth()
	if err != nil {
		t.Fatal(err)
	}
	if len(truth) != w.Crawl.Records {
		t.Errorf("truth has %d records, manifest says %d", len(truth), w.Crawl.Records)
	}
	images, err := os.ReadDir(w.Path(ImagesDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != w.Crawl.Records {
		t.Errorf("images: got %d files, want %d", len(images), w.Crawl.Records)
	}
	if want := cfg.CrawlImages + w.Crawl.Reposts + w.Crawl.Duplicates; w.Crawl.Records != want {
		t.Errorf("records: got %d, want %d photos + reposts + duplicates = %d", w.Crawl.Records, cfg.CrawlImages, want)
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(t.TempDir())
	if !errors.Is(err, ErrNoWorld) {
		t.Errorf("got %v, want ErrNoWorld", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*WorldConfig)
		errHas string
	}{
		{"quick", func(*WorldConfig) {}, ""},
		{"default", func(c *WorldConfig) { *c = Default() }, ""},
		{"no crawl", func(c *WorldConfig) { c.CrawlImages = 0 }, "crawl images"},
		{"tiny images", func(c *WorldConfig) { c.ImageSize = 8 }, "image size"},
		{"rate", func(c *WorldConfig) { c.WrongTagRate = 1.5 }, "wrong tag rate"},
		{"duplicates", func(c *WorldConfig) { c.Duplicates = 1000 }, "duplicates"},
		{"target", func(c *WorldConfig) { c.TargetVal = 0 }, "target task"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Quick()
			tt.edit(&c)
			err := c.Validate()
			if tt.errHas == "" && err != nil || tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)) {
				t.Errorf("got %v, want error containing %q", err, tt.errHas)
			}
		})
	}
	if _, err := Generate(context.Background(), t.TempDir(), WorldConfig{}); err == nil {
		t.Errorf("Generate with a zero config: got nil error")
	}
}

func TestCrawlFile(t *testing.T) {
	w := quickWorld(t)
	base := "http://127.0.0.1:9"
	path, err := w.WriteCrawl(base)
	if err != nil {
		t.Fatalf("write crawl: %v", err)
	}
	recs := readCrawl(t, path)
	if len(recs) != w.Crawl.Records {
		t.Fatalf("got %d records, want %d", len(recs), w.Crawl.Records)
	}
	seen := map[string]bool{}
	captions := 0
	for _, r := range recs {
		if seen[r.ID] {
			t.Errorf("id %s twice", r.ID)
		}
		seen[r.ID] = true
		if r.URL != ImageURL(base, r.ID) {
			t.Errorf("%s: url %s", r.ID, r.URL)
		}
		if (len(r.Tags) == 0) == (r.Caption == "") {
			t.Errorf("%s: want tags or a caption, got %d tags, caption %q", r.ID, len(r.Tags), r.Caption)
		}
		if r.Caption != "" {
			captions++
			if !strings.Contains(r.Caption, "#") {
				t.Errorf("%s: caption without hashtags: %q", r.ID, r.Caption)
			}
		}
		for _, tg := range r.Tags {
			if strings.HasPrefix(tg, "#") || strings.ContainsAny(tg, " \t") {
				t.Errorf("%s: tag %q", r.ID, tg)
			}
		}
	}
	if captions != w.Crawl.CaptionRecords {
		t.Errorf("captions: got %d, manifest says %d", captions, w.Crawl.CaptionRecords)
	}
}

func TestRegenerate(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	if _, err := Generate(t.Context(), dir, cfg); err != nil {
		t.Fatal(err)
	}
	// Smaller config: regenerated, nothing of the old world left over.
	cfg.CrawlImages = 40
	w, err := Generate(t.Context(), dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(filepath.Join(dir, ImagesDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != w.Crawl.Records {
		t.Errorf("images: got %d files, want %d records", len(files), w.Crawl.Records)
	}
	// A directory the demo did not make is refused.
	foreign := t.TempDir()
	if err := os.Mkdir(filepath.Join(foreign, ImagesDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(context.Background(), foreign, cfg); err == nil {
		t.Errorf("generate into a foreign directory with images/: got nil error")
	}
}
