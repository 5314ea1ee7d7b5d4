package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/parquet/file"
)

// CountLines returns the number of records an input holds, for progress
// and ETA: the rows of a Parquet file (from its footer), or the lines of a
// text file (decompressed), less the header of CSV and TSV. Blank and bad
// lines are counted, so it is an upper bound. It stops when ctx ends.
func CountLines(ctx context.Context, path, format string) (int64, error) {
	if format == "" || format == FormatAuto {
		var err error
		if format, err = DetectFormat(path); err != nil {
			return 0, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("count records: %w", err)
	}
	defer f.Close()
	if format == FormatParquet {
		n, err := parquetRows(f)
		if err != nil {
			return 0, fmt.Errorf("count records of %s: %w", path, err)
		}
		return n, nil
	}
	r, closeDec, err := Decompress(f)
	if err != nil {
		return 0, fmt.Errorf("count records of %s: %w", path, err)
	}
	defer closeDec()
	buf := make([]byte, 256<<10)
	var n int64
	last := byte('\n')
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		k, err := r.Read(buf)
		if k > 0 {
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			last = buf[k-1]
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("count records of %s: %w", path, err)
		}
	}
	if last != '\n' {
		n++
	}
	if (format == FormatCSV || format == FormatTSV) && n > 0 {
		n--
	}
	return n, nil
}

func parquetRows(f *os.File) (n int64, err error) {
	defer recoverParquet(&err)
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return 0, err
	}
	defer pf.Close()
	return pf.NumRows(), nil
}
