package demo

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// Generate writes a world into dir (created if missing): crawl images and
// their ground truth, the target task, planted near-duplicates and the
// manifest. The same config gives the same bytes. Images are drawn on all
// CPUs.
func Generate(dir string, cfg WorldConfig) (*World, error) {
	return GenerateContext(context.Background(), dir, cfg)
}

// GenerateContext is Generate with cancellation.
func GenerateContext(ctx context.Context, dir string, cfg WorldConfig) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("generate world: %w", err)
	}
	entries, err := embeddedConcepts()
	if err != nil {
		return nil, fmt.Errorf("generate world: %w", err)
	}
	chosen := pickConcepts(entries, cfg.Concepts)
	if cfg.TargetClasses > len(chosen) {
		return nil, fmt.Errorf("generate world: target classes %d: world has only %d concepts", cfg.TargetClasses, len(chosen))
	}
	for _, d := range []string{dir, filepath.Join(dir, ImagesDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create world directory: %w", err)
		}
	}

	w := &World{Version: ManifestVersion, Dir: dir, Config: cfg}
	w.Files.Crawl, w.Files.Truth, w.Files.Duplicates, w.Files.Images = CrawlFile, TruthFile, DuplicatesFile, ImagesDir
	styles := make(map[string]*style, len(chosen))
	for _, c := range chosen {
		styles[c.wnid] = conceptStyle(cfg.Seed, c)
	}
	p := planWorld(cfg, chosen)
	w.Concepts = p.concepts
	for i := range w.Concepts {
		w.Concepts[i].Style = styles[w.Concepts[i].WNID].summary()
	}
	w.Target = p.target
	w.Crawl = p.summary

	// Fresh images: target task and crawl photos, in parallel.
	var jobs []imageJob
	for _, t := range p.targetImages {
		jobs = append(jobs, t)
	}
	for _, r := range p.records {
		if r.kind == kindPhoto {
			jobs = append(jobs, imageJob{path: filepath.Join(ImagesDir, r.id+".jpg"), key: r.key, scene: r.scene, long: cfg.ImageSize, crawl: true})
		}
	}
	for _, d := range []string{p.target.Train, p.target.Val} {
		for _, c := range p.target.Classes {
			if err := os.MkdirAll(filepath.Join(dir, d, c), 0o755); err != nil {
				return nil, fmt.Errorf("create target directory: %w", err)
			}
		}
	}
	if err := runParallel(ctx, len(jobs), func(i int) error {
		return jobs[i].write(dir, cfg.Seed, styles)
	}); err != nil {
		return nil, fmt.Errorf("generate world %s: %w", dir, err)
	}

	// Copies: reposts (same bytes) and near-duplicates of target val images.
	if err := runParallel(ctx, len(p.records), func(i int) error {
		return p.records[i].writeCopy(dir, cfg.Seed)
	}); err != nil {
		return nil, fmt.Errorf("generate world %s: %w", dir, err)
	}
	w.Duplicates = p.duplicates

	if err := writeJSONL(filepath.Join(dir, TruthFile), len(p.records), func(i int) any { return p.records[i].truth() }); err != nil {
		return nil, err
	}
	if err := writeJSONL(filepath.Join(dir, DuplicatesFile), len(w.Duplicates), func(i int) any { return w.Duplicates[i] }); err != nil {
		return nil, err
	}
	if cfg.BaseURL != "" {
		if _, err := w.writeCrawl(p.records, cfg.BaseURL); err != nil {
			return nil, err
		}
	}
	if err := w.writeManifest(); err != nil {
		return nil, err
	}
	return w, nil
}

// pickConcepts takes n concepts round-robin over the families, so a small
// world still spans many kinds of things. n = 0 takes all.
func pickConcepts(all []conceptEntry, n int) []conceptEntry {
	if n <= 0 || n >= len(all) {
		return all
	}
	var order []string
	byFamily := map[string][]conceptEntry{}
	for _, c := range all {
		if _, ok := byFamily[c.family]; !ok {
			order = append(order, c.family)
		}
		byFamily[c.family] = append(byFamily[c.family], c)
	}
	var out []conceptEntry
	for round := 0; len(out) < n; round++ {
		for _, f := range order {
			if round < len(byFamily[f]) && len(out) < n {
				out = append(out, byFamily[f][round])
			}
		}
	}
	return out
}

// imageJob is one freshly drawn image.
type imageJob struct {
	path  string // relative to the world directory
	key   string // seeds the image's randomness
	scene sceneSpec
	long  int
	crawl bool // crawl photos vary in aspect ratio and JPEG quality
}

// sceneSpec names the concepts of a scene by wnid.
type sceneSpec struct {
	main  string
	count int
	other string
}

func (j imageJob) write(dir string, seed uint64, styles map[string]*style) error {
	r := seeded(seed, j.key)
	w, h, q := j.long, j.long, 92
	if j.crawl {
		switch r.IntN(4) {
		case 1:
			h = j.long * 3 / 4
		case 2:
			w = j.long * 3 / 4
		case 3:
			h = j.long * 2 / 3
		}
		q = 70 + r.IntN(26)
	}
	sc := scene{main: styles[j.scene.main], count: j.scene.count}
	if j.scene.other != "" {
		sc.other = styles[j.scene.other]
	}
	img := renderScene(w, h, r, sc)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		return fmt.Errorf("encode %s: %w", j.path, err)
	}
	if err := os.WriteFile(filepath.Join(dir, j.path), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write image: %w", err)
	}
	return nil
}

// runParallel calls fn(0..n-1) on GOMAXPROCS goroutines and returns the
// first error; it stops handing out work after an error or cancellation.
func runParallel(ctx context.Context, n int, fn func(int) error) error {
	var (
		mu       sync.Mutex
		firstErr error
		next     int
		wg       sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr != nil || next >= n {
			return 0, false
		}
		if err := ctx.Err(); err != nil {
			firstErr = err
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range min(runtime.GOMAXPROCS(0), max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := take()
				if !ok {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// shuffled returns a seeded permutation of 0..n-1.
func shuffled(r *rand.Rand, n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r.Shuffle(n, func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}
