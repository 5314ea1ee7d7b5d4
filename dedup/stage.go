package dedup

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"weaksup/progress"
	"weaksup/store"
	"weaksup/workdir"
)

// Stage is the pipeline stage name, also the stage drop flags are recorded
// under.
const Stage = "dedup"

// Drop reasons recorded in the store.
const (
	ReasonTestSet = "testset" // "testset NAME IMAGE view=VIEW d=N ncc=SCORE chroma=DIST" (or "phash" for the hash alone)
	ReasonRepeat  = "repeat"  // "repeat of ID"
)

// Run is the dedup stage: it signs (or reads the cached signatures of) the
// test sets, searches every ok record's perceptual hash within the radius
// of every view of every test image, verifies each candidate with the
// record's thumbnail, flags records that copy a test image or repeat the
// SHA-256 of an earlier record, and writes the report under
// <workdir>/reports. Earlier dedup flags are cleared first, so a rerun
// starts over. The test sets are the ones listed in l (Config.List), the
// listing the stage's input fingerprint was taken from.
func Run(ctx context.Context, st *store.Store, wd workdir.Dir, l *Listing, log io.Writer) (*Summary, error) {
	cfg := l.Config()
	cat, err := LoadCatalog(ctx, wd, l, log)
	if err != nil {
		return nil, err
	}
	if len(cfg.TestSets) == 0 {
		fmt.Fprintln(log, "dedup: no --testset given; only exact repeats are dropped")
	}
	return runCatalog(ctx, st, wd, cat, cfg, log)
}

// runCatalog is the stage after the test sets are indexed.
func runCatalog(ctx context.Context, st *store.Store, wd workdir.Dir, cat *Catalog, cfg Config, log io.Writer) (*Summary, error) {
	rep, err := scanStore(ctx, st, cat, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := st.ClearDrops(Stage); err != nil {
		return nil, fmt.Errorf("clear earlier dedup flags: %w", err)
	}
	if err := flagDrops(st, rep); err != nil {
		return nil, err
	}
	sum := rep.summarize(cat, cfg)
	if err := writeReport(wd, rep, sum); err != nil {
		return nil, err
	}
	fmt.Fprint(log, sum.Text())
	return &sum, nil
}

// report is what the scan found.
type report struct {
	records int64
	matches []RecordMatch // every (record, test image) pair verified as a copy
	verify  verifyStats
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
// decides which of a set of repeats is kept), searches them all in one
// batch, verifies the candidates and finds the exact repeats.
func scanStore(ctx context.Context, st *store.Store, cat *Catalog, cfg Config, log io.Writer) (*report, error) {
	rep := &report{dropped: map[string]string{}}
	var (
		ids    []string
		hashes []uint64
		shas   [][32]byte
	)
	bar := progress.New(log, -1, "dedup: read hashes")
	err := st.Hashes(func(id string, phash uint64, sha [32]byte) error {
		ids, hashes, shas = append(ids, id), append(hashes, phash), append(shas, sha)
		if len(ids)%(1<<16) == 0 {
			bar.Add(1 << 16)
			return ctx.Err()
		}
		return nil
	})
	bar.Add(int64(len(ids) % (1 << 16)))
	bar.Finish()
	if err != nil {
		return nil, fmt.Errorf("scan record hashes: %w", err)
	}
	rep.records = int64(len(ids))

	var cands []pending
	cat.SearchBatch(hashes, cfg.Radius, cfg.Workers, func(q int, cs []Candidate) {
		for _, c := range cs {
			c.Views = slices.Clone(c.Views)
			cands = append(cands, pending{q: q, cand: c})
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if rep.verify, err = verifyCandidates(ctx, st, cat, cfg, ids, cands, log); err != nil {
		return nil, err
	}
	for i := 0; i < len(cands); {
		q := cands[i].q
		var ms []Match
		var oks []bool
		for ; i < len(cands) && cands[i].q == q; i++ {
			ms, oks = append(ms, cands[i].m), append(oks, cands[i].ok)
		}
		v := judge(ids[q], ms, oks)
		rep.matches = append(rep.matches, v.Matches...)
		if v.Reason != "" {
			rep.dropped[ids[q]] = v.Reason
		}
	}
	if !cfg.KeepRepeats {
		// A record an earlier stage dropped (no usable tags) neither counts
		// as the kept first copy nor is flagged as a repeat.
		earlier := map[string]bool{}
		err := st.ScanDrops(func(id, stage, _ string) error {
			if stage != Stage {
				earlier[id] = true
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read drop flags of earlier stages: %w", err)
		}
		skip := func(i int) bool { return earlier[ids[i]] }
		for _, r := range findRepeats(shas, skip) {
			id, first := ids[r[0]], ids[r[1]]
			rep.repeats = append(rep.repeats, Repeat{CrawlID: id, FirstID: first})
			if _, dropped := rep.dropped[id]; !dropped {
				rep.dropped[id] = RepeatReason(first)
			}
		}
	}
	return rep, nil
}

// better reports whether match a is stronger evidence than b: a higher
// verification score, or a smaller distance.
func better(a, b Match) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.Distance < b.Distance
}

// dropReason is the drop flag of a record that copies the test image of m.
func dropReason(m Match) string {
	r := fmt.Sprintf("%s %s %s view=%s d=%d", ReasonTestSet, m.Set, m.Image, m.View, m.Distance)
	if m.Test == TestNCC {
		return r + fmt.Sprintf(" ncc=%.3f chroma=%.1f", m.Score, m.Chroma)
	}
	return r + " " + m.Test
}

// findRepeats returns, for every SHA-256 seen before, the pair (its index,
// the index of its first occurrence), in order, leaving out indexes skip
// reports.
func findRepeats(shas [][32]byte, skip func(i int) bool) [][2]int {
	var out [][2]int
	// Keyed by the first 8 bytes; the rare different digest with the same
	// prefix goes to an exact map.
	first := make(map[uint64]int32, len(shas))
	var exact map[[32]byte]int32
	for i, s := range shas {
		if skip(i) {
			continue
		}
		k := binary.LittleEndian.Uint64(s[:8])
		j, ok := first[k]
		switch {
		case !ok:
			first[k] = int32(i)
		case shas[j] == s:
			out = append(out, [2]int{i, int(j)})
		default:
			if exact == nil {
				exact = map[[32]byte]int32{}
			}
			if j, ok := exact[s]; ok {
				out = append(out, [2]int{i, int(j)})
			} else {
				exact[s] = int32(i)
			}
		}
	}
	return out
}

// flagDrops records every drop in the store in one batch.
func flagDrops(st *store.Store, rep *report) error {
	b := st.NewBatch()
	for id, reason := range rep.dropped {
		if err := b.SetDrop(id, Stage, reason); err != nil {
			b.Cancel()
			return fmt.Errorf("flag record %s: %w", id, err)
		}
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("write dedup flags: %w", err)
	}
	return nil
}
