package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// parquetRow is one row of the test file; empty URL is written as null.
type parquetRow struct {
	key     int64
	url     string
	text    string
	tags    []string
	nullTag bool
}

// writeParquet writes rows LAION style (key, URL, TEXT, tags) with zstd
// column compression and small row groups, so reading crosses groups.
func writeParquet(t testing.TB, rows []parquetRow) []byte {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "key", Type: arrow.PrimitiveTypes.Int64},
		{Name: "similarity", Type: arrow.PrimitiveTypes.Float64},
		{Name: "URL", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "TEXT", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.Int64Builder).Append(r.key)
		b.Field(1).(*array.Float64Builder).Append(0.3)
		if r.url == "" {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.StringBuilder).Append(r.url)
		}
		b.Field(3).(*array.StringBuilder).Append(r.text)
		lb := b.Field(4).(*array.ListBuilder)
		if r.nullTag {
			lb.AppendNull()
			continue
		}
		lb.Append(true)
		for _, tag := range r.tags {
			lb.ValueBuilder().(*array.StringBuilder).Append(tag)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithMaxRowGroupLength(3))
	w, err := pqarrow.NewFileWriter(sc, &buf, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParquetReader(t *testing.T) {
	rows := []parquetRow{
		{key: 1, url: "http://x.org/1.jpg", text: "a #dog", tags: []string{"pet", "#cute"}},
		{key: 2, url: "", text: "no url"},
		{key: 3, url: " http://x.org/3.jpg ", text: "", nullTag: true},
		{key: 4, url: "http://x.org/4.jpg", text: "x"},
		{key: 5, url: "http://x.org/5.jpg", text: "y", tags: []string{"a b"}},
	}
	data := writeParquet(t, rows)
	path := filepath.Join(t.TempDir(), "laion.parquet")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenInput(path, FormatAuto, Columns{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, bad, err := readAll(t, f)
	if err != nil {
		t.Fatal(err)
	}
	want := []Input{
		{ID: "1", URL: "http://x.org/1.jpg", Caption: "a #dog", Tags: []string{"pet", "cute"}, Line: 1},
		{ID: "3", URL: "http://x.org/3.jpg", Line: 3},
		{ID: "4", URL: "http://x.org/4.jpg", Caption: "x", Line: 4},
		{ID: "5", URL: "http://x.org/5.jpg", Caption: "y", Tags: []string{"a", "b"}, Line: 5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records:\n got %+v\nwant %+v", got, want)
	}
	if wantBad := []string{"2:no_url"}; !reflect.DeepEqual(bad, wantBad) {
		t.Errorf("bad rows: got %v, want %v", bad, wantBad)
	}
}

func TestParquetReaderErrors(t *testing.T) {
	data := writeParquet(t, []parquetRow{{key: 1, url: "http://x.org/1.jpg"}})
	if _, err := NewParquetReader(bytes.NewReader(data), Columns{URL: "nope"}); err == nil {
		t.Error("missing url column: got nil error")
	}
	if _, err := NewParquetReader(bytes.NewReader(data[:len(data)/2]), Columns{}); err == nil {
		t.Error("truncated file: got nil error")
	}
}
