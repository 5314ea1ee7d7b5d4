package shards

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"weaksup/storage"
)

// Shard is one open shard file, memory-mapped, with its record batches
// decoded (JPEG bytes stay in the mapping; compressed metadata columns are
// decompressed on open). A Shard is safe for concurrent reads; byte slices
// it returns are valid until Close.
type Shard struct {
	path    string
	data    []byte
	unmap   func() error
	fr      *ipc.FileReader
	batches []batchCols
	starts  []int // first row of each batch
	rows    int
	stream  *streamed // a shard read in place from a gs:// or s3:// URL, else nil
}

type batchCols struct {
	rec    arrow.RecordBatch
	key    *array.String
	image  *array.Binary
	width  *array.Int32
	height *array.Int32
	labels *array.List
	labelV *array.Int32
	tags   *array.List
	tagV   *array.String
	raw    *array.List
	rawV   *array.String
	url    *array.String
	phash  *array.Uint64
	sha    *array.FixedSizeBinary
}

// OpenShard maps the shard file at path, checks its schema and validates
// every record batch. Errors name the file and, where known, the batch.
// path may be a gs:// or s3:// URL: the shard is then mapped from a
// temporary local copy (see OpenShardIn).
func OpenShard(path string) (*Shard, error) {
	if storage.IsURL(path) {
		return openShardURL(path)
	}
	return openMapped(path, path, nil)
}

// openMapped maps the local file and reads it as the shard at path (named
// in errors); release, if set, runs once the file is unmapped.
func openMapped(path, local string, release func()) (_ *Shard, err error) {
	data, unmap, err := mapFile(local)
	if err != nil {
		if release != nil {
			release()
		}
		return nil, fmt.Errorf("open shard %s: %w", path, err)
	}
	if release != nil {
		unmapFile := unmap
		unmap = func() error {
			err := unmapFile()
			release()
			return err
		}
	}
	return openData(path, data, unmap)
}

// openData reads data, a whole shard file mapped into memory, as the shard
// at path (named in errors); unmap runs on Close, or at once on error.
func openData(path string, data []byte, unmap func() error) (_ *Shard, err error) {
	s := &Shard{path: path, data: data, unmap: unmap}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("open shard %s: %w: %v", path, ErrCorrupt, r)
		}
		if err != nil {
			s.Close()
		}
	}()
	fr, err := ipc.NewMappedFileReader(data, ipc.WithAllocator(newBoundedAllocator(len(data))))
	if err != nil {
		return nil, fmt.Errorf("open shard %s: %w: %w", path, ErrCorrupt, err)
	}
	s.fr = fr
	if err := checkSchema(fr.Schema()); err != nil {
		return nil, fmt.Errorf("open shard %s: %w", path, err)
	}
	for i := 0; i < fr.NumRecords(); i++ {
		rec, err := fr.RecordBatch(i)
		if err != nil {
			return nil, fmt.Errorf("open shard %s: read record batch %d: %w: %w", path, i, ErrCorrupt, err)
		}
		rec.Retain()
		b, err := columns(rec)
		if err != nil {
			rec.Release()
			return nil, fmt.Errorf("open shard %s: record batch %d: %w", path, i, err)
		}
		s.batches = append(s.batches, b)
		s.starts = append(s.starts, s.rows)
		s.rows += int(rec.NumRows())
	}
	return s, nil
}

func columns(rec arrow.RecordBatch) (batchCols, error) {
	if err := checkSchema(rec.Schema()); err != nil {
		return batchCols{}, err
	}
	if err := array.ValidateRecordFull(rec); err != nil {
		return batchCols{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	c := batchCols{rec: rec}
	var ok [numCols]bool
	c.key, ok[colKey] = rec.Column(colKey).(*array.String)
	c.image, ok[colImage] = rec.Column(colImage).(*array.Binary)
	c.width, ok[colWidth] = rec.Column(colWidth).(*array.Int32)
	c.height, ok[colHeight] = rec.Column(colHeight).(*array.Int32)
	c.labels, ok[colLabels] = rec.Column(colLabels).(*array.List)
	c.tags, ok[colTags] = rec.Column(colTags).(*array.List)
	c.raw, ok[colRawTags] = rec.Column(colRawTags).(*array.List)
	c.url, ok[colURL] = rec.Column(colURL).(*array.String)
	c.phash, ok[colPHash] = rec.Column(colPHash).(*array.Uint64)
	c.sha, ok[colSHA256] = rec.Column(colSHA256).(*array.FixedSizeBinary)
	for i, o := range ok {
		if !o {
			return batchCols{}, fmt.Errorf("%w: column %s has an unexpected array type", ErrSchema, shardSchema.Field(i).Name)
		}
	}
	var vok [3]bool
	c.labelV, vok[0] = c.labels.ListValues().(*array.Int32)
	c.tagV, vok[1] = c.tags.ListValues().(*array.String)
	c.rawV, vok[2] = c.raw.ListValues().(*array.String)
	if !vok[0] || !vok[1] || !vok[2] {
		return batchCols{}, fmt.Errorf("%w: list column values have an unexpected array type", ErrSchema)
	}
	return c, nil
}

// Path is the file the shard was opened from.
func (s *Shard) Path() string { return s.path }

// Rows is the number of rows in the shard.
func (s *Shard) Rows() int { return s.rows }

// Batches is the number of Arrow record batches in the file.
func (s *Shard) Batches() int { return len(s.batches) }

func (s *Shard) locate(i int) (*batchCols, int, error) {
	c, _, j, err := s.locateBatch(i)
	return c, j, err
}

// locateBatch returns row i's batch, the batch's index and the row within it.
func (s *Shard) locateBatch(i int) (*batchCols, int, int, error) {
	if i < 0 || i >= s.rows {
		return nil, 0, 0, fmt.Errorf("read shard %s: row %d out of range [0,%d)", filepath.Base(s.path), i, s.rows)
	}
	b := sort.Search(len(s.starts), func(k int) bool { return s.starts[k] > i }) - 1
	return &s.batches[b], b, i - s.starts[b], nil
}

// Key returns the record id of row i (a copy).
func (s *Shard) Key(i int) (string, error) {
	c, j, err := s.locate(i)
	if err != nil {
		return "", err
	}
	return strings.Clone(c.key.Value(j)), nil
}

// Image returns the JPEG bytes of row i. The slice aliases the mapped file:
// do not modify it, and do not use it after Close. (A shard read in place
// from a URL fetches the bytes into a new slice.)
func (s *Shard) Image(i int) ([]byte, error) {
	c, b, j, err := s.locateBatch(i)
	if err != nil {
		return nil, err
	}
	if sp, ok := s.stream.imageSpan(b, c, j); ok {
		return s.fetchImage(nil, sp)
	}
	return c.image.Value(j), nil
}

// ReadImage appends the JPEG bytes of row i to buf[:0].
func (s *Shard) ReadImage(i int, buf []byte) ([]byte, error) {
	c, b, j, err := s.locateBatch(i)
	if err != nil {
		return nil, err
	}
	if sp, ok := s.stream.imageSpan(b, c, j); ok {
		return s.fetchImage(buf, sp)
	}
	return append(buf[:0], c.image.Value(j)...), nil
}

// fetchImage reads sp of a shard read in place into buf[:0].
func (s *Shard) fetchImage(buf []byte, sp span) ([]byte, error) {
	if int64(cap(buf)) < sp.n {
		buf = make([]byte, sp.n)
	}
	buf = buf[:sp.n]
	if _, err := s.stream.o.ReadAt(buf, sp.off); err != nil {
		return nil, fmt.Errorf("read shard %s: %w", s.path, err)
	}
	return buf, nil
}

// Labels returns the vocabulary ids of row i. The slice aliases the shard.
func (s *Shard) Labels(i int) ([]int32, error) {
	c, j, err := s.locate(i)
	if err != nil {
		return nil, err
	}
	lo, hi := c.labels.ValueOffsets(j)
	return c.labelV.Int32Values()[lo:hi], nil
}

// Row returns a copy of every column of row i.
func (s *Shard) Row(i int) (Row, error) {
	c, j, err := s.locate(i)
	if err != nil {
		return Row{}, err
	}
	img, err := s.ReadImage(i, nil)
	if err != nil {
		return Row{}, err
	}
	r := Row{
		Key:    strings.Clone(c.key.Value(j)),
		Image:  img,
		Width:  c.width.Value(j),
		Height: c.height.Value(j),
		URL:    strings.Clone(c.url.Value(j)),
		PHash:  c.phash.Value(j),
	}
	copy(r.SHA256[:], c.sha.Value(j))
	lo, hi := c.labels.ValueOffsets(j)
	r.Labels = append([]int32(nil), c.labelV.Int32Values()[lo:hi]...)
	r.Tags = listStrings(c.tags, c.tagV, j)
	r.RawTags = listStrings(c.raw, c.rawV, j)
	return r, nil
}

func listStrings(l *array.List, v *array.String, j int) []string {
	lo, hi := l.ValueOffsets(j)
	out := make([]string, 0, hi-lo)
	for k := lo; k < hi; k++ {
		out = append(out, strings.Clone(v.Value(int(k))))
	}
	return out
}

// Close releases the record batches and unmaps the file. It is idempotent.
func (s *Shard) Close() error {
	for _, b := range s.batches {
		b.rec.Release()
	}
	s.batches = nil
	if s.fr != nil {
		s.fr.Close()
		s.fr = nil
	}
	var err error
	if s.unmap != nil {
		err = s.unmap()
		s.unmap = nil
	}
	s.data = nil
	return err
}
