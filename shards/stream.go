package shards

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	flatbuffers "github.com/google/flatbuffers/go"

	"weaksup/storage"
)

// A shard at a gs:// or s3:// URL is read in place rather than downloaded:
// its footer, the metadata of each record batch and every column but the
// JPEG bytes (keys, labels, tags, URLs, hashes and the images' offsets)
// are fetched with ranged reads into an anonymous mapping the size of the
// file, where Arrow's reader decodes and validates them as it does a
// mapped local file. The image bytes are left out of the mapping (its
// pages stay unallocated) and each row's JPEG is fetched on its own when
// it is read, or ahead of time by ShardSet.Prefetch. A reader that needs a
// share of the rows (a data-parallel rank) thus fetches about that share of
// the bytes, plus the columns every reader needs.

// Arrow IPC file layout: "ARROW1" at both ends; the footer (a flatbuffer)
// ends 10 bytes before the end, followed by its length (int32) and the
// magic.
const (
	arrowMagic    = "ARROW1"
	footerTailLen = 4 + len(arrowMagic)
	// tailGuess is how much of a shard's end is read first, to get the
	// footer (2 KiB and 24 bytes a record batch) in one request.
	tailGuess = 16 << 10
	// streamFetches bounds the concurrent ranged reads that fetch one
	// shard's index.
	streamFetches = 8
)

// Flatbuffer vtable slots (4 + 2·field index) of the Arrow IPC schema's
// tables (format/File.fbs, format/Message.fbs).
const (
	footerDictionaries  = 8  // Footer.dictionaries: [Block]
	footerRecordBatches = 10 // Footer.recordBatches: [Block]
	messageHeaderType   = 6  // Message.header_type: ubyte
	messageHeader       = 8  // Message.header: union
	messageBodyLength   = 10 // Message.bodyLength: long
	batchBuffers        = 8  // RecordBatch.buffers: [Buffer]
	batchCompression    = 10 // RecordBatch.compression: BodyCompression
	headerRecordBatch   = 3  // MessageHeader.RecordBatch
	blockSize           = 24 // struct Block {offset: long; metaDataLength: int; pad; bodyLength: long}
	bufferSize          = 16 // struct Buffer {offset: long; length: long}
)

// The shard schema's body buffers, in Arrow's order (per column: validity
// bitmap, then offsets and values): key 3, image 3, width 2, height 2,
// labels 4, tags 5, raw_tags 5, url 3, phash 2, sha256 2. The image
// column's values are buffer 5.
const (
	shardBuffers     = 31
	imageValueBuffer = 5
)

// block is one record batch's place in the file.
type block struct {
	off  int64 // of the metadata (continuation marker and length first)
	meta int64
	body int64
}

// span is a byte range of the file.
type span struct{ off, n int64 }

// streamed is how a Shard read in place reaches its image bytes.
type streamed struct {
	o *storage.Object
	// values is, per record batch, the file offset of the image column's
	// values, or -1 when they were fetched into the mapping (an image
	// buffer that was stored compressed).
	values []int64
	// fetched counts the bytes fetched into the mapping; have is the span
	// at the file's end fetched first.
	fetched int64
	have    span
}

// openStreamed reads shard file name of d in place (see above).
func openStreamed(ctx context.Context, d *storage.Dir, name string) (*Shard, error) {
	url := d.URL(name)
	o, err := d.Open(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("open shard %s: %w", url, err)
	}
	s, err := openObject(url, o)
	if err != nil {
		o.Close()
		return nil, err
	}
	return s, nil
}

func openObject(url string, o *storage.Object) (*Shard, error) {
	size := o.Size()
	if size < int64(2*len(arrowMagic)+footerTailLen) {
		return nil, fmt.Errorf("open shard %s: %w: %d bytes is too short for an Arrow file", url, ErrCorrupt, size)
	}
	data, unmap, err := anonMap(size)
	if err != nil {
		return nil, fmt.Errorf("open shard %s: %w", url, err)
	}
	st := &streamed{o: o}
	values, err := st.fill(data)
	if err != nil {
		unmap()
		return nil, fmt.Errorf("open shard %s: %w", url, err)
	}
	st.values = values
	s, err := openData(url, data, func() error {
		err := unmap()
		o.Close()
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(s.batches) != len(values) {
		s.Close()
		return nil, fmt.Errorf("open shard %s: %w: %d record batches, the footer lists %d", url, ErrCorrupt, len(s.batches), len(values))
	}
	s.stream = st
	return s, nil
}

// fill fetches the footer, the batches' metadata and every buffer but the
// image values into data (the whole file's extent), and returns where each
// batch's image values lie.
func (st *streamed) fill(data []byte) ([]int64, error) {
	size := int64(len(data))
	tail := min(size, tailGuess)
	if err := st.read(data, span{size - tail, tail}); err != nil {
		return nil, err
	}
	if !bytes.Equal(data[size-int64(len(arrowMagic)):], []byte(arrowMagic)) {
		return nil, fmt.Errorf("%w: no Arrow magic at the end", ErrCorrupt)
	}
	flen := int64(binary.LittleEndian.Uint32(data[size-int64(footerTailLen):]))
	fstart := size - int64(footerTailLen) - flen
	if flen <= 0 || fstart < int64(len(arrowMagic)) {
		return nil, fmt.Errorf("%w: footer length %d does not fit the file", ErrCorrupt, flen)
	}
	if fstart < size-tail {
		if err := st.read(data, span{fstart, size - tail - fstart}); err != nil {
			return nil, err
		}
		tail = size - fstart
	}
	st.have = span{size - tail, tail}
	blocks, err := parseFooter(data[fstart:size-int64(footerTailLen)], fstart)
	if err != nil {
		return nil, err
	}
	// The metadata of every batch, then what its buffers need.
	metas := make([]span, len(blocks))
	for i, b := range blocks {
		metas[i] = span{b.off, b.meta}
	}
	if err := st.readAll(data, metas); err != nil {
		return nil, err
	}
	values := make([]int64, len(blocks))
	var rest []span
	var prefixes []int // batches whose image buffer starts with a length prefix to check
	for i, b := range blocks {
		lay, err := parseBatch(data[b.off:b.off+b.meta], b)
		if err != nil {
			return nil, fmt.Errorf("record batch %d: %w", i, err)
		}
		bodyStart, bodyEnd := b.off+b.meta, b.off+b.meta+b.body
		if !lay.split {
			values[i] = -1
			rest = append(rest, span{bodyStart, b.body})
			continue
		}
		start, end := bodyStart+lay.img.off, bodyStart+lay.img.off+lay.img.n
		values[i] = start
		if lay.compressed {
			// The buffer starts with its uncompressed length; -1 says
			// the bytes are stored raw.
			values[i] = start + 8
			prefixes = append(prefixes, i)
		}
		rest = append(rest, span{bodyStart, values[i] - bodyStart}, span{end, bodyEnd - end})
	}
	if err := st.readAll(data, rest); err != nil {
		return nil, err
	}
	var whole []span
	for _, i := range prefixes {
		p := values[i] - 8
		if int64(binary.LittleEndian.Uint64(data[p:])) == -1 {
			continue
		}
		// The image values were compressed (JPEG bytes seldom are):
		// Arrow must decompress them, so they go into the mapping.
		b := blocks[i]
		whole = append(whole, span{values[i], b.off + b.meta + b.body - values[i]})
		values[i] = -1
	}
	if err := st.readAll(data, whole); err != nil {
		return nil, err
	}
	return values, nil
}

// read fetches one span into data.
func (st *streamed) read(data []byte, s span) error {
	if s.n <= 0 {
		return nil
	}
	if _, err := st.o.ReadAt(data[s.off:s.off+s.n], s.off); err != nil {
		return err
	}
	st.fetched += s.n
	return nil
}

// readAll fetches spans into data, adjacent ones in one request, a few
// requests at a time, leaving out what the first read at the end got.
func (st *streamed) readAll(data []byte, spans []span) error {
	spans = coalesce(spans)
	for i, s := range spans {
		if end := s.off + s.n; end > st.have.off {
			spans[i].n = max(0, st.have.off-s.off)
		}
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, streamFetches)
	)
	for _, s := range spans {
		if s.n == 0 {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := st.o.ReadAt(data[s.off:s.off+s.n], s.off); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				return
			}
			mu.Lock()
			st.fetched += s.n
			mu.Unlock()
		}()
	}
	wg.Wait()
	return first
}

// coalesce sorts spans and merges those that touch or overlap, dropping
// empty ones.
func coalesce(spans []span) []span {
	var out []span
	for _, s := range spans {
		if s.n > 0 {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].off < out[j].off })
	merged := out[:0]
	for _, s := range out {
		if k := len(merged) - 1; k >= 0 && s.off <= merged[k].off+merged[k].n {
			merged[k].n = max(merged[k].n, s.off+s.n-merged[k].off)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// fbTable returns the root table of a flatbuffer, checking that its offsets
// stay inside buf (the flatbuffers package does not, and panics).
func fbTable(buf []byte) (flatbuffers.Table, error) {
	if len(buf) < 8 {
		return flatbuffers.Table{}, fmt.Errorf("%w: metadata of %d bytes", ErrCorrupt, len(buf))
	}
	pos := flatbuffers.GetUOffsetT(buf)
	if int(pos)+4 > len(buf) {
		return flatbuffers.Table{}, fmt.Errorf("%w: metadata root outside its %d bytes", ErrCorrupt, len(buf))
	}
	return flatbuffers.Table{Bytes: buf, Pos: pos}, nil
}

// structs returns the position and length of a vector of structs of size
// elem in slot of t, checked against the buffer.
func structs(t flatbuffers.Table, slot flatbuffers.VOffsetT, elem int) (flatbuffers.UOffsetT, int, error) {
	o := flatbuffers.UOffsetT(t.Offset(slot))
	if o == 0 {
		return 0, 0, nil
	}
	vec := t.Vector(o)
	n := t.VectorLen(o)
	if n < 0 || int(vec)+n*elem > len(t.Bytes) {
		return 0, 0, fmt.Errorf("%w: a metadata vector runs past its end", ErrCorrupt)
	}
	return vec, n, nil
}

// parseFooter reads the record batch blocks of an Arrow file footer that
// starts at file offset fstart, checking each lies before the footer.
func parseFooter(buf []byte, fstart int64) (blocks []block, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: footer: %v", ErrCorrupt, r)
		}
	}()
	t, err := fbTable(buf)
	if err != nil {
		return nil, fmt.Errorf("footer: %w", err)
	}
	if _, n, err := structs(t, footerDictionaries, blockSize); err != nil || n > 0 {
		if err == nil {
			err = fmt.Errorf("%w: %d dictionaries, the shard schema has none", ErrSchema, n)
		}
		return nil, err
	}
	vec, n, err := structs(t, footerRecordBatches, blockSize)
	if err != nil {
		return nil, err
	}
	for i := range n {
		p := int(vec) + i*blockSize
		b := block{
			off:  flatbuffers.GetInt64(buf[p:]),
			meta: int64(flatbuffers.GetInt32(buf[p+8:])),
			body: flatbuffers.GetInt64(buf[p+16:]),
		}
		if b.off < 0 || b.meta < 8 || b.body < 0 || b.off%8 != 0 || b.off+b.meta > fstart || b.off+b.meta+b.body > fstart {
			return nil, fmt.Errorf("%w: record batch %d at %d (%d+%d bytes) does not fit before the footer at %d", ErrCorrupt, i, b.off, b.meta, b.body, fstart)
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

// batchLayout is where a record batch keeps its image values.
type batchLayout struct {
	split      bool // false: the body is read whole (an unexpected layout)
	img        span // the image values buffer, relative to the body
	compressed bool // buffers start with their uncompressed length
}

// parseBatch reads the RecordBatch message in meta (the block's metadata:
// continuation marker, length, flatbuffer).
func parseBatch(meta []byte, b block) (lay batchLayout, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: metadata: %v", ErrCorrupt, r)
		}
	}()
	fb := meta[4:]
	if binary.LittleEndian.Uint32(meta) == 0xFFFFFFFF {
		fb = meta[8:]
	}
	t, err := fbTable(fb)
	if err != nil {
		return lay, err
	}
	o := t.Offset(messageHeaderType)
	if o == 0 || t.GetByte(flatbuffers.UOffsetT(o)+t.Pos) != headerRecordBatch {
		return lay, fmt.Errorf("%w: not a record batch message", ErrCorrupt)
	}
	if o := t.Offset(messageBodyLength); o == 0 || t.GetInt64(flatbuffers.UOffsetT(o)+t.Pos) != b.body {
		return lay, fmt.Errorf("%w: the message's body length differs from the footer's %d", ErrCorrupt, b.body)
	}
	var rb flatbuffers.Table
	o = t.Offset(messageHeader)
	if o == 0 {
		return lay, fmt.Errorf("%w: record batch message without a header", ErrCorrupt)
	}
	t.Union(&rb, flatbuffers.UOffsetT(o))
	if int(rb.Pos) >= len(fb) {
		return lay, fmt.Errorf("%w: record batch header outside its metadata", ErrCorrupt)
	}
	vec, n, err := structs(rb, batchBuffers, bufferSize)
	if err != nil {
		return lay, err
	}
	if n != shardBuffers {
		return lay, nil // not the shard schema: read whole, and let the schema check say so
	}
	p := int(vec) + imageValueBuffer*bufferSize
	lay.img = span{flatbuffers.GetInt64(fb[p:]), flatbuffers.GetInt64(fb[p+8:])}
	lay.compressed = rb.Offset(batchCompression) != 0
	if lay.img.off < 0 || lay.img.n < 0 || lay.img.off+lay.img.n > b.body || (lay.compressed && lay.img.n > 0 && lay.img.n < 8) {
		return lay, fmt.Errorf("%w: image buffer at %d (%d bytes) outside the body of %d", ErrCorrupt, lay.img.off, lay.img.n, b.body)
	}
	lay.split = lay.img.n > 0
	return lay, nil
}

// imageSpan is where row j of batch c's image lies in the file, when it was
// left out of the mapping.
func (st *streamed) imageSpan(b int, c *batchCols, j int) (span, bool) {
	if st == nil || st.values[b] < 0 {
		return span{}, false
	}
	lo := int64(c.image.ValueOffset(j))
	return span{st.values[b] + lo, int64(c.image.ValueLen(j))}, true
}
