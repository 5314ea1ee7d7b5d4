package ingest

import (
	"errors"
	"fmt"
	"strings"
)

// Input is one record read from an input file, before it is fetched.
type Input struct {
	ID      string   // the record id; empty when the input has none (the crawl derives one from the URL)
	URL     string   // the image URL
	Tags    []string // hashtags given by the input, original spelling, without '#'
	Caption string   // free text that may contain hashtags
	Line    int64    // 1-based line (text formats) or row (Parquet) number
}

// Reader streams the records of one input file. Next returns io.EOF after
// the last record. A *LineError reports one bad or skipped line; the caller
// counts it and calls Next again. Any other error ends the stream.
type Reader interface {
	Next() (Input, error)
}

// Reasons a line is not turned into a record.
const (
	ReasonBadLine = "bad_line"      // the line does not parse
	ReasonNoURL   = "no_url"        // the line parses but has no usable http(s) URL
	ReasonVideo   = "skipped_video" // a YFCC100M video entry
)

// LineError reports one input line that yields no record. Reading
// continues after it.
type LineError struct {
	Line   int64
	Reason string // one of the Reason constants
	Err    error  // the parse error, if any
}

func (e *LineError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("line %d: %s: %v", e.Line, e.Reason, e.Err)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

func (e *LineError) Unwrap() error { return e.Err }

// Columns names the fields that hold a record's parts in JSONL, CSV/TSV and
// Parquet inputs. An empty name means "the first present of the usual
// names" (matched case-insensitively): id, key, photoid, image_id; url,
// image_url, downloadurl, photo_url; tags, hashtags, user_tags; caption,
// text, title.
type Columns struct {
	ID      string `json:"id,omitempty"`
	URL     string `json:"url,omitempty"`
	Tags    string `json:"tags,omitempty"`
	Caption string `json:"caption,omitempty"`
}

var columnAliases = [4][]string{
	{"id", "key", "photoid", "image_id"},
	{"url", "image_url", "downloadurl", "photo_url"},
	{"tags", "hashtags", "user_tags"},
	{"caption", "text", "title"},
}

// resolve maps each part to its index in names, -1 when absent. It fails
// when the URL column cannot be found or a named column is missing.
func (c Columns) resolve(names []string) (idx [4]int, err error) {
	want := [4]string{c.ID, c.URL, c.Tags, c.Caption}
	for part := range want {
		idx[part] = -1
		cands := columnAliases[part]
		if want[part] != "" {
			cands = []string{want[part]}
		}
	search:
		for _, cand := range cands {
			for i, n := range names {
				if strings.EqualFold(strings.TrimSpace(n), cand) {
					idx[part] = i
					break search
				}
			}
		}
		if want[part] != "" && idx[part] < 0 {
			return idx, fmt.Errorf("find column %q among %q: %w", want[part], names, ErrNoColumn)
		}
	}
	if idx[1] < 0 {
		return idx, fmt.Errorf("find url column among %q (set --url-col): %w", names, ErrNoColumn)
	}
	return idx, nil
}

// Sentinel errors.
var (
	ErrNoColumn      = errors.New("no such column")
	ErrUnknownFormat = errors.New("unknown input format")
)

// splitTags splits a tag list written as one string: separated by commas,
// semicolons, '|' or white space, each with an optional leading '#'.
func splitTags(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == '|' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	out := f[:0]
	for _, t := range f {
		t = strings.TrimLeft(t, "#")
		if t != "" {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
