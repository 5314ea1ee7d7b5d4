package dedup

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"weaksup/atomicfile"
	"weaksup/workdir"
)

// Report files, under <workdir>/reports.
const (
	ReportCSV  = "dedup-matches.csv" // crawl_id,test_set,test_image,distance,mirror,view,test,score,chroma
	RepeatsCSV = "dedup-repeats.csv" // crawl_id,first_id
	ReportJSON = "dedup-report.json" // summary, matches and repeats
)

// SetSummary is what the stage found for one test set.
type SetSummary struct {
	Name       string  `json:"name"`
	Layout     string  `json:"format"` // the key of reports written before layouts had one name
	Path       string  `json:"path"`
	Images     int     `json:"images"`      // hashed test images
	Unreadable int     `json:"unreadable"`  // test images that could not be decoded
	Matched    int     `json:"matched"`     // test images with a copy in the crawl
	MatchedPct float64 `json:"matched_pct"` // of Images
	Records    int64   `json:"records"`     // crawled records matching this set
}

// Summary is the stage's result. The pipeline keeps it in the stage record.
type Summary struct {
	Radius         int          `json:"radius"`
	MinScore       float64      `json:"min_score"`
	MaxChroma      float64      `json:"max_chroma"`
	Records        int64        `json:"records"`    // ok records searched
	Candidates     int64        `json:"candidates"` // (record, test image) pairs verified
	Verified       int64        `json:"verified"`   // of them, copies
	Decoded        int64        `json:"decoded"`    // records without a stored thumbnail whose image was decoded
	TestSets       []SetSummary `json:"test_sets"`
	DroppedTestSet int64        `json:"dropped_testset"`
	DroppedRepeat  int64        `json:"dropped_repeat"` // repeats not already dropped as test copies
	Dropped        int64        `json:"dropped"`
	DroppedPct     float64      `json:"dropped_pct"` // of Records
}

func pct(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func (rep *report) summarize(cat *Catalog, cfg Config) Summary {
	s := Summary{Radius: cfg.Radius, MinScore: cfg.MinScore, MaxChroma: cfg.MaxChroma, Records: rep.records, Dropped: int64(len(rep.dropped)),
		Candidates: rep.verify.candidates, Verified: rep.verify.accepted, Decoded: rep.verify.decoded}
	matched := map[string]map[string]bool{} // set → test images matched
	records := map[string]map[string]bool{} // set → crawl ids
	for _, m := range rep.matches {
		if matched[m.Set] == nil {
			matched[m.Set], records[m.Set] = map[string]bool{}, map[string]bool{}
		}
		matched[m.Set][m.Image] = true
		records[m.Set][m.CrawlID] = true
	}
	for _, reason := range rep.dropped {
		if strings.HasPrefix(reason, ReasonTestSet) {
			s.DroppedTestSet++
		} else {
			s.DroppedRepeat++
		}
	}
	for _, ts := range cat.Sets {
		ss := SetSummary{
			Name: ts.Spec.Name, Layout: ts.Layout, Path: ts.Spec.Path,
			Images: len(ts.Images), Unreadable: len(ts.Unreadable),
			Matched: len(matched[ts.Spec.Name]), Records: int64(len(records[ts.Spec.Name])),
		}
		ss.MatchedPct = pct(int64(ss.Matched), int64(ss.Images))
		s.TestSets = append(s.TestSets, ss)
	}
	s.DroppedPct = pct(s.Dropped, s.Records)
	return s
}

// Text renders the summary for the log.
func (s Summary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dedup: %d records searched within radius %d of %d views per test image; %d candidates verified, %d copies (score >= %.2f, chroma <= %g)\n",
		s.Records, s.Radius, len(Views), s.Candidates, s.Verified, s.MinScore, s.MaxChroma)
	for _, t := range s.TestSets {
		fmt.Fprintf(&b, "dedup: %-12s %d of %d test images (%.3f%%) have a copy in the crawl; %d records match",
			t.Name, t.Matched, t.Images, t.MatchedPct, t.Records)
		if t.Unreadable > 0 {
			fmt.Fprintf(&b, "; %d test images unreadable", t.Unreadable)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "dedup: dropped %d records (%.3f%%): %d test-set copies, %d exact repeats\n",
		s.Dropped, s.DroppedPct, s.DroppedTestSet, s.DroppedRepeat)
	return b.String()
}

// Counts flattens the summary for display: records, dropped,
// dropped_testset, dropped_repeat, testset_images, testset_matched and, per
// test set NAME, testset_NAME_images, _matched and _records.
func (s Summary) Counts() map[string]int64 {
	c := map[string]int64{
		"records": s.Records, "dropped": s.Dropped, "candidates": s.Candidates, "verified": s.Verified,
		"dropped_testset": s.DroppedTestSet, "dropped_repeat": s.DroppedRepeat,
	}
	for _, t := range s.TestSets {
		c["testset_"+t.Name+"_images"] = int64(t.Images)
		c["testset_"+t.Name+"_matched"] = int64(t.Matched)
		c["testset_"+t.Name+"_records"] = t.Records
		c["testset_images"] += int64(t.Images)
		c["testset_matched"] += int64(t.Matched)
	}
	return c
}

// writeReport writes the matches and repeats as CSV and everything as JSON,
// sorted by crawl id, each file replaced atomically.
func writeReport(wd workdir.Dir, rep *report, sum Summary) error {
	dir := wd.Reports()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create report folder: %w", err)
	}
	slices.SortFunc(rep.matches, func(a, b RecordMatch) int {
		return cmpStrings(a.CrawlID+"\x00"+a.Set+"\x00"+a.Image, b.CrawlID+"\x00"+b.Set+"\x00"+b.Image)
	})
	slices.SortFunc(rep.repeats, func(a, b Repeat) int { return cmpStrings(a.CrawlID, b.CrawlID) })
	rows := [][]string{{"crawl_id", "test_set", "test_image", "distance", "mirror", "view", "test", "score", "chroma"}}
	for _, m := range rep.matches {
		rows = append(rows, []string{m.CrawlID, m.Set, m.Image, strconv.Itoa(m.Distance), strconv.FormatBool(m.Mirror),
			m.View, m.Test, strconv.FormatFloat(m.Score, 'f', 4, 64), strconv.FormatFloat(m.Chroma, 'f', 2, 64)})
	}
	if err := atomicfile.Write(filepath.Join(dir, ReportCSV), func(f io.Writer) error { return writeCSV(f, rows) }); err != nil {
		return err
	}
	rows = [][]string{{"crawl_id", "first_id"}}
	for _, r := range rep.repeats {
		rows = append(rows, []string{r.CrawlID, r.FirstID})
	}
	if err := atomicfile.Write(filepath.Join(dir, RepeatsCSV), func(f io.Writer) error { return writeCSV(f, rows) }); err != nil {
		return err
	}
	doc := struct {
		Summary Summary       `json:"summary"`
		Matches []RecordMatch `json:"matches"`
		Repeats []Repeat      `json:"repeats"`
	}{sum, rep.matches, rep.repeats}
	if doc.Matches == nil {
		doc.Matches = []RecordMatch{}
	}
	if doc.Repeats == nil {
		doc.Repeats = []Repeat{}
	}
	return atomicfile.Write(filepath.Join(dir, ReportJSON), func(f io.Writer) error {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	})
}

func cmpStrings(a, b string) int { return strings.Compare(a, b) }

func writeCSV(f io.Writer, rows [][]string) error {
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	return w.Error()
}
