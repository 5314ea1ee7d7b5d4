package dedup

import (
	"maps"
	"slices"

	"weaksup/workdir"
)

// Verdict is what the matcher says of one crawled record.
type Verdict struct {
	Matches    []RecordMatch // every test image the record was verified to copy
	Reason     string        // the drop flag of the best match; "" when none
	Candidates int64         // test images verified
	Verified   int64         // of them, copies
}

// MatchRecord searches one record's perceptual hash within cfg.Radius of
// every view of every test image and verifies each candidate with the
// record's thumbnail: the stage's per-record work, for drivers that see
// one record at a time (the Beam driver). Run searches all records in one
// batch (SearchBatch finds the same candidates) and decides each with the
// same verify and judge steps.
func (c *Catalog) MatchRecord(id string, phash uint64, thumb []byte, cfg Config) Verdict {
	_, cands := c.Search(phash, cfg.Radius, nil, nil)
	if len(cands) == 0 {
		return Verdict{}
	}
	q := NewQuery(thumb)
	ms := make([]Match, len(cands))
	oks := make([]bool, len(cands))
	for i, cand := range cands {
		ms[i], oks[i] = c.Verify(cand, q, cfg)
	}
	v := judge(id, ms, oks)
	v.Candidates = int64(len(cands))
	return v
}

// judge turns the verified candidates of one record into its verdict: the
// accepted matches, and the drop flag of the strongest.
func judge(id string, ms []Match, oks []bool) Verdict {
	var v Verdict
	best := -1
	for i, m := range ms {
		if !oks[i] {
			continue
		}
		v.Verified++
		v.Matches = append(v.Matches, RecordMatch{CrawlID: id, Match: m})
		if best < 0 || better(m, ms[best]) {
			best = i
		}
	}
	if best >= 0 {
		v.Reason = dropReason(ms[best])
	}
	return v
}

// FirstOf returns which of the ids of records with the same SHA-256 the
// stage keeps: the smallest, as Run, which reads records in key order,
// keeps the first it reads.
func FirstOf(ids []string) string { return slices.Min(ids) }

// RepeatReason is the drop flag of a record that repeats record first.
func RepeatReason(first string) string { return ReasonRepeat + " of " + first }

// Findings is what a driver that is not Run found, for WriteReport.
type Findings struct {
	Records    int64             // ok records searched
	Matches    []RecordMatch     // verified (record, test image) pairs
	Repeats    []Repeat          // exact repeats
	Dropped    map[string]string // record id → drop flag
	Candidates int64
	Verified   int64
}

// WriteReport writes the stage's report files under <workdir>/reports from
// findings, as Run writes them, and returns the summary.
func WriteReport(wd workdir.Dir, cat *Catalog, cfg Config, f Findings) (Summary, error) {
	rep := &report{records: f.Records, matches: slices.Clone(f.Matches), repeats: slices.Clone(f.Repeats),
		dropped: maps.Clone(f.Dropped), verify: verifyStats{candidates: f.Candidates, accepted: f.Verified}}
	if rep.dropped == nil {
		rep.dropped = map[string]string{}
	}
	sum := rep.summarize(cat, cfg.normalized())
	return sum, writeReport(wd, rep, sum)
}
