package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// JSONLReader reads one JSON object per line:
//
//	{"id": "42", "url": "https://...", "tags": ["cat", "#kitten"]}
//	{"url": "https://...", "caption": "my #dog at the #beach"}
//
// The id may be a string or a number; tags may be an array of strings or
// one string of separated tags. Blank lines are ignored.
type JSONLReader struct {
	lines *lineScanner
	cols  Columns
}

var _ Reader = (*JSONLReader)(nil)

// NewJSONLReader reads JSONL from r, taking fields named by cols.
func NewJSONLReader(r io.Reader, cols Columns) *JSONLReader {
	return &JSONLReader{lines: newLineScanner(r), cols: cols}
}

// Next returns the next record.
func (r *JSONLReader) Next() (Input, error) {
	for {
		b, line, err := r.lines.record()
		if err != nil {
			return Input{}, err
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		in, err := r.parse(b)
		if err != nil {
			return Input{}, &LineError{Line: line, Reason: ReasonBadLine, Err: err}
		}
		in.Line = line
		if in.URL == "" {
			return Input{}, &LineError{Line: line, Reason: ReasonNoURL}
		}
		return in, nil
	}
}

func (r *JSONLReader) parse(b []byte) (Input, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return Input{}, err
	}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names) // deterministic choice between "url" and "URL"
	vals := make([]json.RawMessage, len(names))
	for i, k := range names {
		vals[i] = obj[k]
	}
	idx, err := r.cols.resolve(names)
	if err != nil && idx[1] >= 0 {
		return Input{}, err
	}
	var in Input
	if idx[1] < 0 {
		return in, nil // reported as no_url
	}
	if in.URL, err = jsonScalar(vals[idx[1]]); err != nil {
		return Input{}, fmt.Errorf("field %q: %w", names[idx[1]], err)
	}
	if idx[0] >= 0 {
		if in.ID, err = jsonScalar(vals[idx[0]]); err != nil {
			return Input{}, fmt.Errorf("field %q: %w", names[idx[0]], err)
		}
	}
	if idx[3] >= 0 {
		if in.Caption, err = jsonScalar(vals[idx[3]]); err != nil {
			return Input{}, fmt.Errorf("field %q: %w", names[idx[3]], err)
		}
	}
	if idx[2] >= 0 {
		if in.Tags, err = jsonTags(vals[idx[2]]); err != nil {
			return Input{}, fmt.Errorf("field %q: %w", names[idx[2]], err)
		}
	}
	in.URL = strings.TrimSpace(in.URL)
	in.ID = strings.TrimSpace(in.ID)
	return in, nil
}

// jsonScalar turns a JSON string, number or null into a string.
func jsonScalar(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", nil
	case v[0] == '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
		var n json.Number
		err := json.Unmarshal(v, &n)
		return n.String(), err
	}
	return "", fmt.Errorf("want a string or number, got %.20s", v)
}

// jsonTags accepts an array of strings or one string of separated tags.
func jsonTags(v json.RawMessage) ([]string, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '[' {
		var raw []string
		if err := json.Unmarshal(v, &raw); err != nil {
			return nil, err
		}
		var out []string
		for _, t := range raw {
			out = append(out, splitTags(t)...)
		}
		return out, nil
	}
	s, err := jsonScalar(v)
	if err != nil {
		return nil, err
	}
	return splitTags(s), nil
}
