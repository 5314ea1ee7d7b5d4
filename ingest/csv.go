package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CSVReader reads comma-separated (RFC 4180, quoted fields allowed) or
// tab-separated (no quoting; a field ends at the next tab) text with a
// header line naming the columns. The tags column holds separated tags;
// see [Columns] for how columns are found.
type CSVReader struct {
	tab   bool
	cols  Columns
	csv   *csv.Reader  // comma-separated
	lines *lineScanner // tab-separated
	idx   [4]int
	ncol  int
}

var _ Reader = (*CSVReader)(nil)

// NewCSVReader reads the header of comma-separated (tab false) or
// tab-separated (tab true) text from r and returns a reader of its records.
func NewCSVReader(r io.Reader, tab bool, cols Columns) (*CSVReader, error) {
	c := &CSVReader{tab: tab, cols: cols}
	var header []string
	if tab {
		c.lines = newLineScanner(r)
		b, _, err := c.lines.next()
		if err != nil {
			return nil, fmt.Errorf("read header: %w", err)
		}
		header = strings.Split(string(b), "\t")
	} else {
		c.csv = csv.NewReader(r)
		c.csv.FieldsPerRecord = -1
		c.csv.ReuseRecord = true
		h, err := c.csv.Read()
		if err != nil {
			return nil, fmt.Errorf("read header: %w", err)
		}
		header = append([]string(nil), h...)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	idx, err := cols.resolve(header)
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	c.idx, c.ncol = idx, len(header)
	return c, nil
}

// Next returns the next record.
func (c *CSVReader) Next() (Input, error) {
	for {
		fields, line, err := c.row()
		if err != nil {
			return Input{}, err
		}
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue // blank line
		}
		get := func(part int) string {
			if i := c.idx[part]; i >= 0 && i < len(fields) {
				return strings.TrimSpace(fields[i])
			}
			return ""
		}
		in := Input{ID: get(0), URL: get(1), Tags: splitTags(get(2)), Caption: get(3), Line: line}
		if c.idx[1] >= len(fields) {
			return Input{}, &LineError{Line: line, Reason: ReasonBadLine,
				Err: fmt.Errorf("%d fields, header has %d", len(fields), c.ncol)}
		}
		if in.URL == "" {
			return Input{}, &LineError{Line: line, Reason: ReasonNoURL}
		}
		return in, nil
	}
}

func (c *CSVReader) row() ([]string, int64, error) {
	if c.tab {
		b, line, err := c.lines.record()
		if err != nil {
			return nil, line, err
		}
		return strings.Split(string(b), "\t"), line, nil
	}
	fields, err := c.csv.Read()
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, int64(pe.StartLine), &LineError{Line: int64(pe.StartLine), Reason: ReasonBadLine, Err: pe.Err}
	}
	if err != nil {
		if err != io.EOF {
			err = fmt.Errorf("read csv: %w", err)
		}
		return nil, 0, err
	}
	line, _ := c.csv.FieldPos(0)
	return fields, int64(line), nil
}
