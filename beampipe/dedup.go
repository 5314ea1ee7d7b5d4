package beampipe

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"weaksup/atomicfile"
	"weaksup/dedup"
	"weaksup/workdir"
)

func catalogFor(b []byte, radius int) (*dedup.Catalog, error) {
	sum := sha256.Sum256(b)
	return sharedValue(fmt.Sprintf("catalog\x00%d\x00%x", radius, sum), func() (*dedup.Catalog, error) {
		return dedup.UnmarshalCatalog(b, radius)
	})
}

// matchFn searches and verifies one record against the test sets (the
// catalog, a side input, indexed once per process) and flags it.
type matchFn struct {
	Cfg dedup.Config
}

func (f *matchFn) ProcessElement(ctx context.Context, r Rec, cat []byte, emit func(Rec), match func(MatchRow), count func(string, int64)) error {
	c, err := catalogFor(cat, f.Cfg.Radius)
	if err != nil {
		return err
	}
	v := c.MatchRecord(r.ID, r.PHash, r.Thumb, f.Cfg)
	count("records", 1)
	count("candidates", v.Candidates)
	count("verified", v.Verified)
	for _, m := range v.Matches {
		match(MatchRow{CrawlID: m.CrawlID, Set: m.Set, Image: m.Image, View: m.View, Distance: m.Distance,
			Mirror: m.Mirror, Test: m.Test, Score: m.Score, Chroma: m.Chroma})
	}
	if v.Reason != "" {
		beam.NewCounter("dedup", "testset").Inc(ctx, 1)
		r.Drop = v.Reason
	}
	emit(r)
	return nil
}

func bySHA(r Rec) (string, Rec) { return r.shaKey(), r }

// firstOfSHA keeps the record of a group of exact repeats the embedded
// stage keeps (dedup.FirstOf: the smallest id) and flags the others.
type firstOfSHA struct {
	KeepRepeats bool
}

func (f *firstOfSHA) ProcessElement(ctx context.Context, _ string, it func(*Rec) bool, keep func(Rec), repeat func(RepeatRow), drop func(DropRow)) {
	var group []Rec
	var ids []string
	var r Rec
	for it(&r) {
		group = append(group, r)
		ids = append(ids, r.ID)
	}
	first := dedup.FirstOf(ids)
	for _, r := range group {
		if r.ID != first && !f.KeepRepeats {
			beam.NewCounter("dedup", "repeat").Inc(ctx, 1)
			repeat(RepeatRow{CrawlID: r.ID, FirstID: first})
			if r.Drop == "" { // not already a test-set copy
				r.Drop = dedup.RepeatReason(first)
				drop(DropRow{ID: r.ID, Reason: r.Drop})
			}
		}
		if r.Drop == "" {
			keep(r)
		}
	}
}

// testsetDrop lists the test-set drops of every ok record, labelled or
// not: the embedded stage searches every ok record.
func testsetDrop(r Rec, drop func(DropRow)) {
	if r.Drop != "" {
		drop(DropRow{ID: r.ID, Reason: r.Drop})
	}
}

// reportFn writes the dedup report files from the collected rows.
type reportFn struct {
	Cfg     dedup.Config
	Workdir string
}

func (f *reportFn) ProcessElement(ctx context.Context, _ []byte, cat []byte, matches func(*MatchRow) bool, repeats func(*RepeatRow) bool,
	drops func(*DropRow) bool, counts func(*string, *int64) bool) error {
	c, err := catalogFor(cat, f.Cfg.Radius)
	if err != nil {
		return err
	}
	fd := dedup.Findings{Dropped: map[string]string{}}
	var m MatchRow
	for matches(&m) {
		fd.Matches = append(fd.Matches, dedup.RecordMatch{CrawlID: m.CrawlID, Match: dedup.Match{Set: m.Set, Image: m.Image,
			View: m.View, Distance: m.Distance, Mirror: m.Mirror, Test: m.Test, Score: m.Score, Chroma: m.Chroma}})
	}
	var rp RepeatRow
	for repeats(&rp) {
		fd.Repeats = append(fd.Repeats, dedup.Repeat{CrawlID: rp.CrawlID, FirstID: rp.FirstID})
	}
	var d DropRow
	for drops(&d) {
		fd.Dropped[d.ID] = d.Reason
	}
	var k string
	var n int64
	for counts(&k, &n) {
		switch k {
		case "records":
			fd.Records += n
		case "candidates":
			fd.Candidates += n
		case "verified":
			fd.Verified += n
		}
	}
	return writeFiles(ctx, f.Workdir, func(wd workdir.Dir) error {
		sum, err := dedup.WriteReport(wd, c, f.Cfg, fd)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(string(wd), "beam"), 0o755); err != nil {
			return err
		}
		return atomicfile.WriteFile(filepath.Join(string(wd), "beam", "dedup-summary.txt"), []byte(sum.Text()))
	})
}
