package ingest

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// YFCCReader reads the YFCC100M dataset file: one tab-separated line per
// photo or video, no header. Both published layouts are accepted: the 23
// column file (photo id first) and the 25 column file (line number, photo
// id and photo hash first). User tags are comma-separated and URL-encoded;
// the title becomes the caption; the download URL is the record URL.
// Videos (marker 1) are skipped with ReasonVideo.
type YFCCReader struct {
	lines *lineScanner
}

var _ Reader = (*YFCCReader)(nil)

// NewYFCCReader reads the YFCC100M dataset file from r.
func NewYFCCReader(r io.Reader) *YFCCReader {
	return &YFCCReader{lines: newLineScanner(r)}
}

// Column positions in the 23 column layout.
const (
	yfccID       = 0
	yfccTitle    = 6
	yfccUserTags = 8
	yfccDownload = 14
	yfccMarker   = 22
	yfccColumns  = 23
)

// Next returns the next photo.
func (y *YFCCReader) Next() (Input, error) {
	for {
		b, line, err := y.lines.record()
		if err != nil {
			return Input{}, err
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		in, err := parseYFCC(string(b))
		if err != nil {
			if le, ok := err.(*LineError); ok {
				le.Line = line
				return Input{}, le
			}
			return Input{}, &LineError{Line: line, Reason: ReasonBadLine, Err: err}
		}
		in.Line = line
		return in, nil
	}
}

func parseYFCC(s string) (Input, error) {
	f := strings.Split(s, "\t")
	switch len(f) {
	case yfccColumns:
	case yfccColumns + 2:
		// line number, photo id, photo hash, then the 23 column layout
		// without its photo id.
		f = append(f[1:2], f[3:]...)
	default:
		return Input{}, fmt.Errorf("%d tab-separated fields, want %d or %d", len(f), yfccColumns, yfccColumns+2)
	}
	switch strings.TrimSpace(f[yfccMarker]) {
	case "0":
	case "1":
		return Input{}, &LineError{Reason: ReasonVideo}
	default:
		return Input{}, fmt.Errorf("photo/video marker %q, want 0 or 1", f[yfccMarker])
	}
	in := Input{ID: strings.TrimSpace(f[yfccID]), URL: strings.TrimSpace(f[yfccDownload])}
	if in.ID == "" {
		return Input{}, fmt.Errorf("empty photo id")
	}
	if in.URL == "" {
		return Input{}, &LineError{Reason: ReasonNoURL}
	}
	title, err := url.QueryUnescape(f[yfccTitle])
	if err != nil {
		return Input{}, fmt.Errorf("decode title: %w", err)
	}
	in.Caption = strings.TrimSpace(title)
	for _, t := range strings.Split(f[yfccUserTags], ",") {
		if t == "" {
			continue
		}
		t, err := url.QueryUnescape(t)
		if err != nil {
			return Input{}, fmt.Errorf("decode user tag: %w", err)
		}
		if t = strings.TrimSpace(strings.TrimLeft(t, "#")); t != "" {
			in.Tags = append(in.Tags, t)
		}
	}
	return in, nil
}
