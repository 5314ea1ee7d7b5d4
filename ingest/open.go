package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Input formats accepted by OpenInput.
const (
	FormatAuto    = "auto"
	FormatJSONL   = "jsonl"
	FormatCSV     = "csv"
	FormatTSV     = "tsv"
	FormatYFCC    = "yfcc"
	FormatParquet = "parquet"
)

// Formats lists the accepted format names.
var Formats = []string{FormatAuto, FormatJSONL, FormatCSV, FormatTSV, FormatYFCC, FormatParquet}

// InputFile is an open input file: a Reader plus the file behind it.
type InputFile struct {
	Reader
	Format  string
	closers []func() error
}

// Close closes the reader, the decompressor and the file.
func (f *InputFile) Close() error {
	var errs []error
	for i := len(f.closers) - 1; i >= 0; i-- {
		errs = append(errs, f.closers[i]())
	}
	f.closers = nil
	return errors.Join(errs...)
}

// DetectFormat guesses the format from a file name, ignoring a .gz or .zst
// suffix: .jsonl/.ndjson/.json, .csv, .tsv, .parquet, and YFCC100M for a
// name containing "yfcc".
func DetectFormat(path string) (string, error) {
	name := strings.ToLower(filepath.Base(path))
	for _, ext := range []string{".gz", ".gzip", ".zst", ".zstd"} {
		name = strings.TrimSuffix(name, ext)
	}
	switch filepath.Ext(name) {
	case ".jsonl", ".ndjson", ".json":
		return FormatJSONL, nil
	case ".csv":
		return FormatCSV, nil
	case ".tsv":
		return FormatTSV, nil
	case ".parquet", ".pq":
		return FormatParquet, nil
	}
	if strings.Contains(name, "yfcc") {
		return FormatYFCC, nil
	}
	return "", fmt.Errorf("detect format of %s (set --format to one of %s): %w", path, strings.Join(Formats[1:], ", "), ErrUnknownFormat)
}

// OpenInput opens an input file in the given format (FormatAuto guesses it
// from the name). Text formats may be gzip- or zstd-compressed, which is
// recognized from the content; Parquet compresses inside the file.
func OpenInput(path, format string, cols Columns) (*InputFile, error) {
	if format == "" || format == FormatAuto {
		var err error
		if format, err = DetectFormat(path); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open input: %w", err)
	}
	in := &InputFile{Format: format, closers: []func() error{f.Close}}
	if format == FormatParquet {
		p, err := NewParquetReader(f, cols)
		if err != nil {
			in.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		in.Reader = p
		in.closers = append(in.closers, p.Close)
		return in, nil
	}
	r, closeDec, err := Decompress(f)
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	in.closers = append(in.closers, closeDec)
	rd, err := NewReader(r, format, cols)
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	in.Reader = rd
	return in, nil
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Decompress returns a reader of r's content, decompressing gzip or zstd
// (recognized by their magic bytes) and passing anything else through,
// and a function that releases the decompressor.
func Decompress(r io.Reader) (io.Reader, func() error, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	nop := func() error { return nil }
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("read gzip header: %w", err)
		}
		return z, z.Close, nil
	case bytes.HasPrefix(head, zstdMagic):
		z, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<27))
		if err != nil {
			return nil, nil, fmt.Errorf("read zstd header: %w", err)
		}
		return z, func() error { z.Close(); return nil }, nil
	}
	return br, nop, nil
}
