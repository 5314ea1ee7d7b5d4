package storage

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// Object is random access to one object's bytes, as Arrow IPC files need.
// It is safe for concurrent use.
type Object struct {
	d      *Dir
	key    string // relative to d
	bkey   string // in the bucket
	info   Info
	ctx    context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	last int64 // last block read through the cache, for read-ahead
}

var _ io.ReaderAt = (*Object)(nil)

// Open returns random access to key; errors.Is(err, fs.ErrNotExist) when
// it is missing. ctx bounds every read through the Object (ReadAt has no
// context of its own) and the read-ahead it starts; each request also has
// the stall timeout.
func (d *Dir) Open(ctx context.Context, key string) (*Object, error) {
	info, err := d.Stat(ctx, key)
	if err != nil {
		return nil, &Error{Op: "open", URL: d.URL(key), Err: unwrapOp(err)}
	}
	octx, cancel := context.WithCancel(ctx)
	return &Object{d: d, key: key, bkey: d.prefix + key, info: info, ctx: octx, cancel: cancel, last: -2}, nil
}

// unwrapOp drops an *Error layer, so that a wrapping one names the URL once.
func unwrapOp(err error) error {
	if e, ok := err.(*Error); ok {
		return e.Err
	}
	return err
}

// Size is the object's size in bytes.
func (o *Object) Size() int64 { return o.info.Size }

// Info is what Open learned of the object.
func (o *Object) Info() Info { return o.info }

// URL names the object.
func (o *Object) URL() string { return o.d.URL(o.key) }

// ReadAt reads len(p) bytes at off, as io.ReaderAt says: all of them, or an
// error. Only a read that runs past the end of the object returns fewer,
// with io.EOF. A response cut short, a stalled one or a server error is
// retried from where it broke off; when the attempts run out the error
// names the URL and wraps ErrShortRead, ErrStalled or the service's answer.
func (o *Object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &Error{Op: "read", URL: o.URL(), Err: fmt.Errorf("negative offset %d", off)}
	}
	if off >= o.info.Size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := int(min(int64(len(p)), o.info.Size-off))
	var err error
	if o.d.cache != nil {
		err = o.d.cache.readAt(o, p[:want], off)
	} else {
		err = o.d.fetch(o.ctx, o.bkey, o.URL(), p[:want], off)
	}
	if err != nil {
		return 0, err
	}
	if want < len(p) {
		return want, io.EOF
	}
	return want, nil
}

// Close ends the Object's read-ahead. It is idempotent.
func (o *Object) Close() error {
	o.cancel()
	return nil
}

// fetch fills p with the bytes of bucket key bkey at off, from the
// service, resuming after the last byte received when an attempt fails.
func (d *Dir) fetch(ctx context.Context, bkey, url string, p []byte, off int64) error {
	got := 0
	return d.retry(ctx, "read", url, func(ctx context.Context, wd *watchdog) error {
		r, err := d.b.NewRangeReader(ctx, bkey, off+int64(got), int64(len(p)-got), nil)
		if err != nil {
			return err
		}
		defer r.Close()
		for got < len(p) {
			n, err := r.Read(p[got:])
			if n > 0 {
				got += n
				wd.touch()
				d.stats.read.Add(int64(n))
			}
			if err == io.EOF {
				if got < len(p) {
					return fmt.Errorf("%w: the response ended %d bytes early (%d of %d bytes at offset %d)", ErrShortRead, len(p)-got, got, len(p), off)
				}
				break
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}
