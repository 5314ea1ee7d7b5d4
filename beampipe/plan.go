package beampipe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"weaksup/ingest"
)

// ErrNotSplittable is returned for an input the driver cannot split into
// chunks of lines: compressed or Parquet.
var ErrNotSplittable = errors.New("input cannot be split into chunks of lines")

// Plan resolves the input's format and splits it into chunks of about
// chunkLines lines each, cut at line ends. It reads the input once, through
// Beam's file systems (local paths, and gs:// or s3:// when linked).
func Plan(ctx context.Context, input, format string, chunkLines int) (string, []Chunk, error) {
	if chunkLines < 1 {
		return "", nil, fmt.Errorf("flag --chunk-lines: %d, want >= 1", chunkLines)
	}
	if format == "" || format == ingest.FormatAuto {
		var err error
		if format, err = ingest.DetectFormat(input); err != nil {
			return "", nil, err
		}
	}
	if format == ingest.FormatParquet {
		return "", nil, fmt.Errorf("plan chunks of %s: Parquet: %w (convert it to JSONL or CSV)", input, ErrNotSplittable)
	}
	rc, err := openInput(ctx, input)
	if err != nil {
		return "", nil, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<20)
	if head, _ := br.Peek(4); bytes.HasPrefix(head, []byte{0x1f, 0x8b}) || bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		return "", nil, fmt.Errorf("plan chunks of %s: compressed: %w (decompress it first)", input, ErrNotSplittable)
	}
	var (
		chunks     []Chunk
		off, start int64
		line       int64
		first      int64 = 1
		header     string
	)
	csv := format == ingest.FormatCSV || format == ingest.FormatTSV
	for {
		b, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) { // a line longer than the buffer
			var more []byte
			more, err = br.ReadSlice('\n')
			b = append(b[:len(b):len(b)], more...)
		}
		if len(b) > 0 {
			off += int64(len(b))
			line++
			switch {
			case csv && line == 1:
				header = string(b)
				if header[len(header)-1] != '\n' {
					header += "\n"
				}
				start, first = off, 2
			case line-first+1 == int64(chunkLines):
				chunks = append(chunks, Chunk{Index: len(chunks), Path: input, Start: start, End: off, FirstLine: first, Header: header})
				start, first = off, line+1
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", nil, fmt.Errorf("read %s: %w", input, err)
		}
	}
	if off > start {
		chunks = append(chunks, Chunk{Index: len(chunks), Path: input, Start: start, End: off, FirstLine: first, Header: header})
	}
	return format, chunks, nil
}

// openInput opens a file through Beam's file systems, with the error the
// embedded ingest gives for a missing file.
func openInput(ctx context.Context, path string) (io.ReadCloser, error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open input: %w", err)
	}
	rc, err := fs.OpenRead(ctx, path)
	if err != nil {
		fs.Close()
		if !strings.Contains(err.Error(), path) {
			return nil, fmt.Errorf("open input %s: %w", path, err)
		}
		return nil, fmt.Errorf("open input: %w", err)
	}
	return struct {
		io.Reader
		io.Closer
	}{rc, closers{rc, fs}}, nil
}

type closers []io.Closer

func (c closers) Close() error {
	var errs []error
	for _, x := range c {
		errs = append(errs, x.Close())
	}
	return errors.Join(errs...)
}

// openChunk opens a chunk's byte range, preceded by its header line: seek
// where the file can (local), else read and discard up to the start
// (gs:// and s3:// readers are not seekable through Beam's interface).
func openChunk(ctx context.Context, c Chunk) (io.Reader, io.Closer, error) {
	rc, err := openInput(ctx, c.Path)
	if err != nil {
		return nil, nil, err
	}
	inner := rc.(struct {
		io.Reader
		io.Closer
	}).Reader
	if sk, ok := inner.(io.Seeker); ok {
		_, err = sk.Seek(c.Start, io.SeekStart)
	} else {
		_, err = io.CopyN(io.Discard, rc, c.Start)
	}
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("read %s from byte %d: %w", c.Path, c.Start, err)
	}
	return io.MultiReader(bytes.NewReader([]byte(c.Header)), io.LimitReader(rc, c.End-c.Start)), rc, nil
}
