package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"weaksup/atomicfile"
	"weaksup/datasets"
	"weaksup/dedup"
	"weaksup/demo"
	"weaksup/pipeline"
	"weaksup/store"
	"weaksup/workdir"
)

// World is a generated demo world being served on loopback.
type World struct {
	*demo.World
	server    *demo.Server
	CrawlFile string // crawl.jsonl pointing at the running server
}

// Close stops the image server.
func (w *World) Close() error { return w.server.Close() }

// StartWorld generates the world into dir (or reuses one generated there
// earlier with the same config), starts its image server on loopback and
// writes the crawl file pointing at it. The server listens on the port it
// used last time when that port is free, so a rerun sees the same crawl
// file and the ingest stage stays up to date.
func StartWorld(ctx context.Context, dir string, cfg demo.WorldConfig, log io.Writer) (*World, error) {
	w, err := demo.Load(dir)
	if err != nil || !reflect.DeepEqual(w.Config, cfg) {
		if err != nil && !errors.Is(err, demo.ErrNoWorld) {
			fmt.Fprintf(log, "world: %v; generating a new one\n", err)
		}
		fmt.Fprintf(log, "world: generating %d crawl images and a %d-class target task in %s\n", cfg.CrawlImages, cfg.TargetClasses, dir)
		w, err = demo.Generate(ctx, dir, cfg)
		if err != nil {
			return nil, err
		}
	} else {
		fmt.Fprintf(log, "world: reusing %s\n", dir)
	}
	addrFile := filepath.Join(dir, "server-addr")
	scfg := demo.DefaultServerConfig()
	srv, err := startServer(ctx, dir, scfg, addrFile)
	if err != nil {
		return nil, err
	}
	crawl, err := writeCrawlKeepingTime(w, srv.URL())
	if err != nil {
		srv.Close()
		return nil, err
	}
	fmt.Fprintf(log, "world: serving %s with injected failures (404s, slow, 500-then-ok, 429, corrupt bytes)\n", srv.URL())
	return &World{World: w, server: srv, CrawlFile: crawl}, nil
}

func startServer(ctx context.Context, dir string, cfg demo.ServerConfig, addrFile string) (*demo.Server, error) {
	if b, err := os.ReadFile(addrFile); err == nil {
		cfg.Addr = strings.TrimSpace(string(b))
		srv := demo.NewServer(dir, cfg)
		if err := srv.Start(ctx); err == nil {
			return srv, nil
		}
	}
	cfg.Addr = ""
	srv := demo.NewServer(dir, cfg)
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	addr := strings.TrimPrefix(srv.URL(), "http://")
	if err := atomicfile.WriteFile(addrFile, []byte(addr+"\n")); err != nil {
		srv.Close()
		return nil, err
	}
	return srv, nil
}

// writeCrawlKeepingTime writes the crawl file and, when its bytes did not
// change, restores its modification time so the ingest stage's input
// fingerprint does not change either.
func writeCrawlKeepingTime(w *demo.World, baseURL string) (string, error) {
	path := w.Path(demo.CrawlFile)
	old, oldErr := os.ReadFile(path)
	st, statErr := os.Stat(path)
	out, err := w.WriteCrawl(baseURL)
	if err != nil {
		return "", err
	}
	if oldErr == nil && statErr == nil {
		if now, err := os.ReadFile(out); err == nil && bytes.Equal(now, old) {
			if err := os.Chtimes(out, st.ModTime(), st.ModTime()); err != nil {
				return "", fmt.Errorf("keep time of %s: %w", out, err)
			}
		}
	}
	return out, nil
}

// PipelineConfig returns the pipeline configuration the demo runs: every
// stage's defaults, with ingest set for one loopback host that fails on
// purpose and dedup set to keep the target task's val images out.
func PipelineConfig(w *World) pipeline.Config {
	cfg := pipeline.DefaultConfig()
	in := &cfg.Ingest
	in.Input = w.CrawlFile
	in.AllowPrivate = true
	in.PerHost = 64 // every demo URL is on one loopback host
	in.Contact = "weaksup-demo@localhost"
	in.MinSide = 16
	in.ImageSize = 0 // keep the generated images as they are
	in.BackoffBase = 50 * time.Millisecond
	in.BackoffMax = 2 * time.Second
	in.FetchTimeout = 5 * time.Second
	cfg.Dedup.TestSets = []dedup.Spec{{Name: "target", Path: filepath.Join(w.Dir, demo.TargetDir, "val"), Layout: datasets.ImageNet}}
	return cfg
}

// DedupScore compares the dedup report with the planted duplicates.
type DedupScore struct {
	Planted        int      `json:"planted"`     // planted copies that were crawled successfully
	NotCrawled     int      `json:"not_crawled"` // planted copies the server failed on purpose
	Caught         int      `json:"caught"`
	Missed         int      `json:"missed"`
	Recall         float64  `json:"recall"`
	FalsePositives int      `json:"false_positives"` // dropped as test-set copies but not planted
	Radius         int      `json:"radius"`          // the dedup stage's Hamming radius
	Distances      []int    `json:"distances"`       // Hamming distance of every reported match
	MissedIDs      []string `json:"missed_ids,omitempty"`
}

// ScoreDedup reads the dedup stage's report under wd and scores it
// against the world's ground truth. Planted copies that the image server
// failed on purpose never reach the store; they are counted apart.
func ScoreDedup(wd workdir.Dir, w *demo.World) (DedupScore, error) {
	crawled := map[string]bool{}
	st, err := store.Open(wd.Store())
	if err != nil {
		return DedupScore{}, err
	}
	err = st.Hashes(func(id string, _ uint64, _ [32]byte) error { crawled[id] = true; return nil })
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return DedupScore{}, fmt.Errorf("score dedup: %w", err)
	}
	path := filepath.Join(wd.Reports(), dedup.ReportJSON)
	b, err := os.ReadFile(path)
	if err != nil {
		return DedupScore{}, fmt.Errorf("read dedup report: %w", err)
	}
	var doc struct {
		Summary dedup.Summary       `json:"summary"`
		Matches []dedup.RecordMatch `json:"matches"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return DedupScore{}, fmt.Errorf("parse dedup report %s: %w", path, err)
	}
	matched := map[string]bool{}
	s := DedupScore{Radius: doc.Summary.Radius}
	for _, m := range doc.Matches {
		matched[m.CrawlID] = true
		s.Distances = append(s.Distances, m.Distance)
	}
	planted := map[string]bool{}
	for _, d := range w.Duplicates {
		if crawled[d.CrawlID] {
			planted[d.CrawlID] = true
		} else {
			s.NotCrawled++
		}
	}
	s.Planted = len(planted)
	for id := range planted {
		if matched[id] {
			s.Caught++
		} else {
			s.MissedIDs = append(s.MissedIDs, id)
		}
	}
	s.Missed = s.Planted - s.Caught
	for id := range matched {
		if !planted[id] {
			s.FalsePositives++
		}
	}
	if s.Planted > 0 {
		s.Recall = float64(s.Caught) / float64(s.Planted)
	}
	return s, nil
}
