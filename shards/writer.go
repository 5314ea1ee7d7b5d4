package shards

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"weaksup/storage"
)

// Record batches inside a shard are cut at whichever limit comes first. Small
// batches keep a reader's memory bounded; large ones amortize metadata.
const (
	batchMaxRows  = 1024
	batchMaxBytes = 8 << 20
)

// minSpaceSavings is the fraction a zstd-compressed buffer must save to be
// stored compressed. Arrow IPC compresses each buffer of a record batch on
// its own, and a buffer that does not save this much is stored raw (length
// prefix -1), so the JPEG bytes stay raw and cost no decompression, while the
// offsets, labels, tags and URLs are stored compressed.
const minSpaceSavings = 0.10

// ShardInfo describes one written shard file; the manifest lists them.
type ShardInfo struct {
	File   string `json:"file"` // base name, relative to the shard directory
	Rows   int    `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"` // hex, of the whole file
}

// ShardWriter writes one Arrow IPC file of shard rows. The file appears
// under its final name only when Close succeeds. A ShardWriter is not safe
// for concurrent use.
type ShardWriter struct {
	path, tmp string
	f         *os.File
	buf       *bufio.Writer
	sum       hash.Hash
	count     countingWriter
	w         *ipc.FileWriter
	b         *array.RecordBuilder
	rows      int
	pending   int // rows in the builder
	pendBytes int64

	// commit, if set, publishes the finished temporary file (an upload to
	// a gs:// or s3:// directory) instead of renaming it; done runs last.
	commit func(tmp string) error
	done   func()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// CreateShard starts a shard file at path, writing to path+".tmp" until Close.
// path may be a gs:// or s3:// URL (see CreateShardIn).
func CreateShard(path string) (*ShardWriter, error) {
	if storage.IsURL(path) {
		return createShardURL(path)
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return nil, fmt.Errorf("create shard %s: %w", path, err)
	}
	return newShardWriter(path, f)
}

// newShardWriter writes the shard at path to the temporary file f.
func newShardWriter(path string, f *os.File) (*ShardWriter, error) {
	tmp := f.Name()
	sw := &ShardWriter{path: path, tmp: tmp, f: f, sum: sha256.New()}
	sw.buf = bufio.NewWriterSize(io.MultiWriter(f, sw.sum), 1<<20)
	sw.count.w = sw.buf
	w, err := ipc.NewFileWriter(&sw.count, ipc.WithSchema(shardSchema), ipc.WithZstd(),
		ipc.WithMinSpaceSavings(minSpaceSavings), ipc.WithCompressConcurrency(2))
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("create shard %s: %w", path, err)
	}
	sw.w = w
	sw.b = array.NewRecordBuilder(memory.DefaultAllocator, shardSchema)
	return sw, nil
}

// Bytes is the size of the file so far, counting rows not yet flushed at
// their uncompressed size.
func (w *ShardWriter) Bytes() int64 { return w.count.n + w.pendBytes }

// Append adds one row.
func (w *ShardWriter) Append(r *Row) error {
	b := w.b
	b.Field(colKey).(*array.StringBuilder).Append(r.Key)
	b.Field(colImage).(*array.BinaryBuilder).Append(r.Image)
	b.Field(colWidth).(*array.Int32Builder).Append(r.Width)
	b.Field(colHeight).(*array.Int32Builder).Append(r.Height)
	lb := b.Field(colLabels).(*array.ListBuilder)
	lb.Append(true)
	lb.ValueBuilder().(*array.Int32Builder).AppendValues(r.Labels, nil)
	appendStrings(b.Field(colTags).(*array.ListBuilder), r.Tags)
	appendStrings(b.Field(colRawTags).(*array.ListBuilder), r.RawTags)
	b.Field(colURL).(*array.StringBuilder).Append(r.URL)
	b.Field(colPHash).(*array.Uint64Builder).Append(r.PHash)
	b.Field(colSHA256).(*array.FixedSizeBinaryBuilder).Append(r.SHA256[:])
	w.rows++
	w.pending++
	w.pendBytes += int64(len(r.Image) + len(r.Key) + len(r.URL) + 4*len(r.Labels) + 64)
	for _, t := range r.Tags {
		w.pendBytes += int64(len(t) + 4)
	}
	for _, t := range r.RawTags {
		w.pendBytes += int64(len(t) + 4)
	}
	if w.pending >= batchMaxRows || w.pendBytes >= batchMaxBytes {
		return w.flush()
	}
	return nil
}

func appendStrings(lb *array.ListBuilder, ss []string) {
	lb.Append(true)
	vb := lb.ValueBuilder().(*array.StringBuilder)
	for _, s := range ss {
		vb.Append(s)
	}
}

func (w *ShardWriter) flush() error {
	if w.pending == 0 {
		return nil
	}
	rec := w.b.NewRecordBatch()
	defer rec.Release()
	if err := w.w.Write(rec); err != nil {
		return fmt.Errorf("write shard %s: %w", w.path, err)
	}
	w.pending, w.pendBytes = 0, 0
	return nil
}

// Close flushes the last record batch, writes the Arrow footer, syncs the
// file and renames it to its final name. On error the temporary file is
// removed.
func (w *ShardWriter) Close() (ShardInfo, error) {
	err := w.flush()
	if cerr := w.w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("finish shard %s: %w", w.path, cerr)
	}
	w.b.Release()
	if err == nil {
		if ferr := w.buf.Flush(); ferr != nil {
			err = fmt.Errorf("write shard %s: %w", w.path, ferr)
		}
	}
	if err == nil {
		if serr := w.f.Sync(); serr != nil {
			err = fmt.Errorf("sync shard %s: %w", w.path, serr)
		}
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close shard %s: %w", w.path, cerr)
	}
	if err == nil && w.commit != nil {
		if cerr := w.commit(w.tmp); cerr != nil {
			err = fmt.Errorf("write shard %s: %w", w.path, cerr)
		}
		os.Remove(w.tmp)
	} else if err == nil {
		if rerr := os.Rename(w.tmp, w.path); rerr != nil {
			err = fmt.Errorf("rename shard %s: %w", w.path, rerr)
		}
	}
	if w.done != nil {
		w.done()
		w.done = nil
	}
	if err != nil {
		os.Remove(w.tmp)
		return ShardInfo{}, err
	}
	return ShardInfo{
		File:   filepath.Base(w.path),
		Rows:   w.rows,
		Bytes:  w.count.n,
		SHA256: hex.EncodeToString(w.sum.Sum(nil)),
	}, nil
}

// Abort discards the shard being written.
func (w *ShardWriter) Abort() {
	w.w.Close()
	w.b.Release()
	w.f.Close()
	os.Remove(w.tmp)
	if w.done != nil {
		w.done()
		w.done = nil
	}
}
