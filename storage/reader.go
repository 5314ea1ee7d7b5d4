package storage

import (
	"context"
	"io"
)

// streamChunk is the size of the ranged reads of a Reader, and
// streamAhead how many chunks it fetches ahead of the caller.
const (
	streamChunk = 8 << 20
	streamAhead = 2
)

// Reader streams one object front to back (a JSONL input, a checkpoint).
// It reads in chunks of 8 MiB with the retries and checks of
// Object.ReadAt, fetching up to two chunks ahead of the caller in the
// background, so at most three chunks are in memory. Through a Dir with a
// Cache the chunks come from the cache, which does its own read-ahead.
// A Reader is not safe for concurrent use; Close stops the fetching.
type Reader struct {
	o      *Object
	chunks chan chunk
	cur    []byte
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

type chunk struct {
	b   []byte
	err error
}

// NewReader opens key for streaming; errors.Is(err, fs.ErrNotExist) when
// it is missing. ctx bounds the whole stream.
func (d *Dir) NewReader(ctx context.Context, key string) (*Reader, error) {
	ctx, cancel := context.WithCancel(ctx)
	o, err := d.Open(ctx, key)
	if err != nil {
		cancel()
		return nil, err
	}
	r := &Reader{o: o, chunks: make(chan chunk, streamAhead), cancel: cancel, done: make(chan struct{})}
	go r.fetch(ctx)
	return r, nil
}

// fetch reads the chunks in order into r.chunks, which holds at most
// streamAhead of them.
func (r *Reader) fetch(ctx context.Context) {
	defer close(r.done)
	defer close(r.chunks)
	for off := int64(0); off < r.o.Size(); off += streamChunk {
		b := make([]byte, min(streamChunk, r.o.Size()-off))
		_, err := r.o.ReadAt(b, off)
		select {
		case r.chunks <- chunk{b, err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// Size is the object's size in bytes.
func (r *Reader) Size() int64 { return r.o.Size() }

// Read reads the next bytes of the object; io.EOF after the last.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		c, ok := <-r.chunks
		switch {
		case !ok:
			r.err = io.EOF
		case c.err != nil:
			r.err = c.err
		default:
			r.cur = c.b
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// Close stops the read-ahead and waits for it. It is idempotent.
func (r *Reader) Close() error {
	r.cancel()
	<-r.done
	r.cur = nil
	if r.err == nil || r.err == io.EOF {
		r.err = &Error{Op: "read", URL: r.o.URL(), Err: errClosed}
	}
	return r.o.Close()
}
