package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path"
	"path/filepath"
	"sync/atomic"

	"gocloud.dev/blob"
)

// Writer writes one object. Nobody sees any of it until Close succeeds,
// and then they see all of it: a local file is written to a temporary file
// beside its target, fsynced and renamed over it (and its directory
// fsynced); for gs:// and s3:// the bytes are spooled to a local file and
// uploaded on Close, with retries, and the service makes the object
// visible only when the upload completes. A Writer is not safe for
// concurrent use.
type Writer struct {
	d   *Dir
	key string
	url string
	n   int64

	// local
	bw     *blob.Writer
	file   *os.File // fileblob's temporary file, once it exists
	cancel context.CancelFunc

	// object stores
	ctx   context.Context
	spool *os.File

	done bool
}

// Create starts writing key. ctx bounds the writing, the upload included;
// cancelling it abandons the object as Abort does.
func (d *Dir) Create(ctx context.Context, key string) (*Writer, error) {
	k, err := d.key(key)
	if err != nil {
		return nil, &Error{Op: "write", URL: d.URL(key), Err: err}
	}
	w := &Writer{d: d, key: k, url: d.URL(key), ctx: ctx}
	if d.loc.Scheme == Local {
		wctx, cancel := context.WithCancel(ctx)
		w.cancel = cancel
		w.bw, err = d.b.NewWriter(wctx, k, &blob.WriterOptions{
			ContentType: contentType(k),
			BeforeWrite: func(as func(any) bool) error {
				as(&w.file)
				return nil
			},
		})
		if err != nil {
			cancel()
			return nil, opError("write", w.url, err)
		}
		return w, nil
	}
	if err := os.MkdirAll(d.opts.SpoolDir, 0o755); err != nil {
		return nil, &Error{Op: "write", URL: w.url, Err: fmt.Errorf("make spool directory: %w", err)}
	}
	w.spool, err = os.CreateTemp(d.opts.SpoolDir, "weaksup-upload-*")
	if err != nil {
		return nil, &Error{Op: "write", URL: w.url, Err: fmt.Errorf("make spool file: %w", err)}
	}
	return w, nil
}

func contentType(key string) string {
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Write adds p to the object.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, &Error{Op: "write", URL: w.url, Err: errors.New("writer is closed")}
	}
	var n int
	var err error
	if w.bw != nil {
		n, err = w.bw.Write(p)
	} else {
		n, err = w.spool.Write(p)
	}
	w.n += int64(n)
	if err != nil {
		return n, &Error{Op: "write", URL: w.url, Err: err}
	}
	return n, nil
}

// Close makes the object visible, complete. On error the object is left
// as it was before Create and nothing of this Writer remains.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.bw != nil {
		return w.closeLocal()
	}
	defer w.dropSpool()
	return w.d.upload(w.ctx, w.key, w.url, w.spool)
}

// ReadFrom writes what r holds to the object.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	buf := make([]byte, 1<<20)
	for {
		k, err := r.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, &Error{Op: "write", URL: w.url, Err: err}
		}
	}
}

// upload sends the whole of f to bucket key bkey, trying again from the
// start of f when an attempt fails; the object appears only when an
// upload completes.
func (d *Dir) upload(ctx context.Context, bkey, url string, f *os.File) error {
	var sent int64
	err := d.retry(ctx, "write", url, func(ctx context.Context, wd *watchdog) error {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		bw, err := d.b.NewWriter(ctx, bkey, &blob.WriterOptions{ContentType: contentType(bkey)})
		if err != nil {
			return err
		}
		var n atomic.Int64
		_, err = io.Copy(bw, progressReader{r: f, wd: wd, n: &n})
		sent = n.Load()
		if err != nil {
			// A cancelled context makes Close abandon the upload.
			wd.abort(err)
			bw.Close()
			return err
		}
		return bw.Close()
	})
	if err == nil {
		d.stats.written.Add(sent)
	}
	return err
}

func (w *Writer) closeLocal() error {
	defer w.cancel()
	var err error
	if w.file != nil {
		err = w.file.Sync()
	}
	if err != nil {
		w.cancel() // the temporary file is removed, the target untouched
		w.bw.Close()
		return &Error{Op: "write", URL: w.url, Err: err}
	}
	if err := w.bw.Close(); err != nil {
		return opError("write", w.url, err)
	}
	w.d.stats.written.Add(w.n)
	p, _ := w.d.LocalPath(w.key[len(w.d.prefix):])
	if err := syncDir(filepath.Dir(p)); err != nil {
		return &Error{Op: "write", URL: w.url, Err: err}
	}
	return nil
}

// syncDir makes a rename inside dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Abort discards the object being written.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	if w.bw != nil {
		w.cancel()
		w.bw.Close()
		return
	}
	w.dropSpool()
}

func (w *Writer) dropSpool() {
	name := w.spool.Name()
	w.spool.Close()
	os.Remove(name)
}
