package beampipe

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"weaksup/ingest"
)

// Chunks cover every line once, cut at line ends; a CSV chunk is read with
// its header, and line numbers are the file's.
func TestPlanChunks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "records.csv")
	data := "id,url,tags\na,http://h/a.jpg,dog\nb,http://h/b.jpg,cat\nc,http://h/c.jpg,\"x,y\"\nd,http://h/d.jpg,car\ne,http://h/e.jpg,tree"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	format, chunks, err := Plan(context.Background(), path, "auto", 2)
	if err != nil {
		t.Fatal(err)
	}
	if format != ingest.FormatCSV || len(chunks) != 3 {
		t.Fatalf("plan: format %s, %d chunks; want csv, 3", format, len(chunks))
	}
	var ids []string
	var lines []int64
	for _, c := range chunks {
		r, closer, err := openChunk(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := ingest.NewReader(r, format, ingest.Columns{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			in, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			ids, lines = append(ids, in.ID), append(lines, in.Line+c.FirstLine-2)
		}
		closer.Close()
	}
	if got := len(ids); got != 5 || ids[0] != "a" || ids[4] != "e" || lines[0] != 2 || lines[4] != 6 {
		t.Errorf("records %v on lines %v, want a..e on lines 2..6", ids, lines)
	}

	gz := filepath.Join(dir, "records.jsonl.gz")
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(`{"url":"http://h/a.jpg"}` + "\n"))
	zw.Close()
	if err := os.WriteFile(gz, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Plan(context.Background(), gz, "auto", 2); !errors.Is(err, ErrNotSplittable) {
		t.Errorf("plan of a gzip input: %v, want %v", err, ErrNotSplittable)
	}
}
