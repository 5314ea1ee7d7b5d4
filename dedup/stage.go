package dedup

import (
	"context"
	"fmt"
	"io"
	"time"

	"weaksup/progress"
	"weaksup/store"
)

// StageName is the stage name drop flags are recorded under.
const StageName = "dedup"

// Drop reasons recorded in the store.
const (
	ReasonTestSet = "testset" // "testset NAME IMAGE d=N"
	ReasonRepeat  = "repeat"  // "repeat of ID"
)

// Run is the dedup stage: it hashes (or reads the cached hashes of) the
// test sets, searches every ok record's perceptual hash within the radius,
// flags records that match a test image or repeat the SHA-256 of an
// earlier record, and writes the report under <workdir>/reports. Earlier
// dedup flags are cleared first, so a rerun starts over.
func Run(ctx context.Context, st *store.Store, workdir string, cfg Config, log io.Writer) (map[string]int64, error) {
	cfg = cfg.normalized()
	start := time.Now()
	cat, err := LoadCatalog(ctx, workdir, cfg, log)
	if err != nil {
		return nil, err
	}
	if len(cfg.TestSets) == 0 {
		fmt.Fprintln(log, "dedup: no --testset given; only exact repeats are dropped")
	}
	rep, err := scanStore(ctx, st, cat, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := st.ClearDrops(StageName); err != nil {
		return nil, fmt.Errorf("clear earlier dedup flags: %w", err)
	}
	if err := flagDrops(st, rep); err != nil {
		return nil, err
	}
	sum := rep.summarize(cat, cfg.Radius)
	if err := writeReport(workdir, rep, sum); err != nil {
		return nil, err
	}
	fmt.Fprint(log, sum.Text())
	counts := sum.Counts()
	counts["seconds_ms"] = time.Since(start).Milliseconds()
	return counts, nil
}

func (c Config) normalized() Config {
	if c.Split == "" {
		c.Split = "test"
	}
	return c
}

// report is what the scan found.
type report struct {
	records int64
	matches []RecordMatch // every (record, test image) pair within the radius
	repeats []Repeat
	dropped map[string]string // record id → reason
}

// RecordMatch is a crawled record within the radius of a test image.
type RecordMatch struct {
	CrawlID string `json:"crawl_id"`
	Match
}

// Repeat is a record whose source bytes repeat an earlier record's.
type Repeat struct {
	CrawlID string `json:"crawl_id"`
	FirstID string `json:"first_id"`
}

// scanStore reads every ok record's hashes in key order (the order that
// decides which of a set of repeats is kept).
func scanStore(ctx context.Context, st *store.Store, cat *Catalog, cfg Config, log io.Writer) (*report, error) {
	rep := &report{dropped: map[string]string{}}
	first := map[[32]byte]string{}
	bar := progress.New(log, -1, "dedup: search")
	var hits []Hit
	var matches []Match
	pending := int64(0)
	err := st.Hashes(func(id string, phash uint64, sha [32]byte) error {
		rep.records++
		if pending++; pending == 1<<14 {
			bar.Add(pending)
			pending = 0
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		hits, matches = cat.Search(phash, cfg.Radius, hits, matches[:0])
		if len(matches) > 0 {
			best := matches[0]
			for _, m := range matches {
				rep.matches = append(rep.matches, RecordMatch{CrawlID: id, Match: m})
				if m.Distance < best.Distance {
					best = m
				}
			}
			rep.dropped[id] = fmt.Sprintf("%s %s %s d=%d", ReasonTestSet, best.Set, best.Image, best.Distance)
			bar.Inc("testset")
		}
		if cfg.KeepRepeats {
			return nil
		}
		if f, ok := first[sha]; ok {
			rep.repeats = append(rep.repeats, Repeat{CrawlID: id, FirstID: f})
			if _, dropped := rep.dropped[id]; !dropped {
				rep.dropped[id] = ReasonRepeat + " of " + f
				bar.Inc("repeat")
			}
			return nil
		}
		first[sha] = id
		return nil
	})
	bar.Add(pending)
	bar.Finish()
	if err != nil {
		return nil, fmt.Errorf("scan record hashes: %w", err)
	}
	return rep, nil
}

// flagDrops records every drop in the store in one batch.
func flagDrops(st *store.Store, rep *report) error {
	b := st.NewBatch()
	for id, reason := range rep.dropped {
		if err := b.SetDrop(id, StageName, reason); err != nil {
			b.Cancel()
			return fmt.Errorf("flag record %s: %w", id, err)
		}
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("write dedup flags: %w", err)
	}
	return nil
}
