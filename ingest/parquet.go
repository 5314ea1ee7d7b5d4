package ingest

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ParquetReader reads a Parquet file (LAION style: URL and caption
// columns) batch by batch, reading only the columns it needs. String
// columns may be utf8, large utf8 or binary; the id may also be an integer;
// tags may be a list of strings or one string of separated tags.
type ParquetReader struct {
	pf    *file.Reader
	rr    pqarrow.RecordReader
	cols  [4]int // position of id, url, tags, caption in the batch, -1 if absent
	batch arrow.RecordBatch
	i     int   // next row in batch
	row   int64 // rows returned so far
}

var _ Reader = (*ParquetReader)(nil)

// parquetBatchRows is the number of rows decoded at once.
const parquetBatchRows = 4096

// NewParquetReader opens Parquet data from r.
func NewParquetReader(r parquet.ReaderAtSeeker, cols Columns) (p *ParquetReader, err error) {
	defer recoverParquet(&err)
	pf, err := file.NewParquetReader(r)
	if err != nil {
		return nil, fmt.Errorf("open parquet: %w", err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: parquetBatchRows}, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("open parquet: %w", err)
	}
	sc, err := fr.Schema()
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("read parquet schema: %w", err)
	}
	names := make([]string, sc.NumFields())
	for i, f := range sc.Fields() {
		names[i] = f.Name
	}
	idx, err := cols.resolve(names)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("read parquet schema: %w", err)
	}
	// Leaf columns of the chosen fields, in field order; the batch holds
	// the chosen fields in the same order.
	var leaves []int
	var picked []int
	for field := range names {
		use := false
		for _, i := range idx {
			use = use || i == field
		}
		if !use {
			continue
		}
		picked = append(picked, field)
		leaves = appendLeaves(leaves, &fr.Manifest.Fields[field])
	}
	p = &ParquetReader{pf: pf}
	for part, i := range idx {
		p.cols[part] = -1
		for pos, f := range picked {
			if f == i {
				p.cols[part] = pos
			}
		}
	}
	if pf.NumRowGroups() == 0 {
		return p, nil
	}
	p.rr, err = fr.GetRecordReader(context.Background(), leaves, nil)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("read parquet columns: %w", err)
	}
	return p, nil
}

func appendLeaves(dst []int, f *pqarrow.SchemaField) []int {
	if f.IsLeaf() {
		return append(dst, f.ColIndex)
	}
	for i := range f.Children {
		dst = appendLeaves(dst, &f.Children[i])
	}
	return dst
}

// recoverParquet turns a panic inside the Parquet library on corrupt
// input into an error, so a bad file cannot crash a crawl.
func recoverParquet(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("read parquet: corrupt file: %v", r)
	}
}

// Next returns the next row.
func (p *ParquetReader) Next() (in Input, err error) {
	defer recoverParquet(&err)
	for p.batch == nil || p.i >= int(p.batch.NumRows()) {
		if p.rr == nil {
			return Input{}, io.EOF
		}
		if !p.rr.Next() {
			if err := p.rr.Err(); err != nil {
				return Input{}, fmt.Errorf("read parquet row %d: %w", p.row+1, err)
			}
			return Input{}, io.EOF
		}
		p.batch, p.i = p.rr.RecordBatch(), 0
	}
	i := p.i
	p.i++
	p.row++
	in.Line = p.row
	get := func(part int) (string, error) {
		if p.cols[part] < 0 {
			return "", nil
		}
		return arrowString(p.batch.Column(p.cols[part]), i)
	}
	if in.ID, err = get(0); err != nil {
		return Input{}, &LineError{Line: in.Line, Reason: ReasonBadLine, Err: err}
	}
	if in.URL, err = get(1); err != nil {
		return Input{}, &LineError{Line: in.Line, Reason: ReasonBadLine, Err: err}
	}
	if in.Caption, err = get(3); err != nil {
		return Input{}, &LineError{Line: in.Line, Reason: ReasonBadLine, Err: err}
	}
	if p.cols[2] >= 0 {
		if in.Tags, err = arrowTags(p.batch.Column(p.cols[2]), i); err != nil {
			return Input{}, &LineError{Line: in.Line, Reason: ReasonBadLine, Err: err}
		}
	}
	in.ID, in.URL = strings.TrimSpace(in.ID), strings.TrimSpace(in.URL)
	if in.URL == "" {
		return Input{}, &LineError{Line: in.Line, Reason: ReasonNoURL}
	}
	return in, nil
}

// Close releases the file's resources (not the underlying reader).
func (p *ParquetReader) Close() error {
	if p.rr != nil {
		p.rr.Release()
		p.rr = nil
	}
	return p.pf.Close()
}

func arrowString(col arrow.Array, i int) (string, error) {
	if col.IsNull(i) {
		return "", nil
	}
	switch a := col.(type) {
	case *array.String:
		return a.Value(i), nil
	case *array.LargeString:
		return a.Value(i), nil
	case *array.Binary:
		return string(a.Value(i)), nil
	case *array.LargeBinary:
		return string(a.Value(i)), nil
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10), nil
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10), nil
	case *array.Uint64:
		return strconv.FormatUint(a.Value(i), 10), nil
	case *array.Dictionary:
		return arrowString(a.Dictionary(), a.GetValueIndex(i))
	}
	return "", fmt.Errorf("column of type %s: want a string or integer", col.DataType())
}

func arrowTags(col arrow.Array, i int) ([]string, error) {
	if col.IsNull(i) {
		return nil, nil
	}
	var values arrow.Array
	var start, end int64
	switch a := col.(type) {
	case *array.List:
		values = a.ListValues()
		start, end = a.ValueOffsets(i)
	case *array.LargeList:
		values = a.ListValues()
		start, end = a.ValueOffsets(i)
	default:
		s, err := arrowString(col, i)
		return splitTags(s), err
	}
	var out []string
	for j := start; j < end; j++ {
		s, err := arrowString(values, int(j))
		if err != nil {
			return nil, err
		}
		out = append(out, splitTags(s)...)
	}
	return out, nil
}
