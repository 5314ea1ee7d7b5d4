package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Options tune how a Dir reaches its service. The zero value (or nil)
// means the defaults.
type Options struct {
	// Endpoint is the service to talk to instead of the provider's own:
	// for s3://, an S3-compatible server (MinIO, Ceph, R2), "https://HOST"
	// (default: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, as the AWS SDKs
	// read them); for gs://, an emulator (default: STORAGE_EMULATOR_HOST),
	// reached without credentials.
	Endpoint string
	// S3VirtualHosted keeps virtual-hosted addressing (BUCKET.HOST) for a
	// custom S3 endpoint, which otherwise gets path-style addressing.
	S3VirtualHosted bool

	// Attempts is how many times an operation is tried (default 6).
	Attempts int
	// InitialBackoff and MaxBackoff bound the waits between attempts,
	// which double from the first (defaults 200ms and 10s).
	InitialBackoff, MaxBackoff time.Duration
	// StallTimeout abandons an attempt that moves no byte, or gets no
	// answer, for this long (default 60s). Every request has this
	// deadline, whatever the caller's context says.
	StallTimeout time.Duration

	// Cache, when set, keeps what Objects of gs:// and s3:// locations
	// read in a local directory (see Cache). Local locations are never
	// cached.
	Cache *Cache
	// SpoolDir holds what a Writer to gs:// or s3:// has been given until
	// Close uploads it (default os.TempDir()).
	SpoolDir string
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Attempts <= 0 {
		r.Attempts = 6
	}
	if r.InitialBackoff <= 0 {
		r.InitialBackoff = 200 * time.Millisecond
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = 10 * time.Second
	}
	if r.MaxBackoff < r.InitialBackoff {
		r.MaxBackoff = r.InitialBackoff
	}
	if r.StallTimeout <= 0 {
		r.StallTimeout = 60 * time.Second
	}
	if r.SpoolDir == "" {
		r.SpoolDir = os.TempDir()
	}
	return r
}

// Dir is a directory of objects: a local directory, or every object whose
// key starts with a prefix in a bucket. Keys are slash-separated and
// relative to the Dir. A Dir is safe for concurrent use.
type Dir struct {
	loc    Location
	b      *blob.Bucket
	prefix string // bucket key prefix, "" or ending in "/"
	opts   Options
	cache  *Cache
	close  func()
	owner  bool // closes b
	stats  *counters
}

type counters struct {
	requests, retries, read, written atomic.Int64
}

// Stats count what a Dir (and every Sub of it) has done.
type Stats struct {
	Requests     int64 // attempts sent to the service (or file system)
	Retries      int64 // attempts that failed and were tried again
	BytesRead    int64 // bytes received from the service (a local Dir: read from its files); cache hits excluded
	BytesWritten int64 // bytes uploaded (or written locally)
}

// Open opens an existing location: a local directory that exists, or a
// bucket that exists and whose prefix the credentials may list (one list
// request checks). loc is "gs://BUCKET/PREFIX", "s3://BUCKET/PREFIX",
// "file:///DIR" or a local path.
func Open(ctx context.Context, loc string, opts *Options) (*Dir, error) {
	return open(ctx, loc, opts, false)
}

// Create is Open for writing: a local directory is created if missing. A
// bucket must exist already; Create makes none.
func Create(ctx context.Context, loc string, opts *Options) (*Dir, error) {
	return open(ctx, loc, opts, true)
}

func open(ctx context.Context, s string, opts *Options, create bool) (*Dir, error) {
	l, err := ParseLocation(s)
	if err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	if o.Endpoint == "" && l.Scheme == GCS {
		o.Endpoint = os.Getenv("STORAGE_EMULATOR_HOST")
	}
	b, closeClient, err := openBucket(ctx, l, &o, create)
	if err != nil {
		return nil, &Error{Op: "open", URL: l.String(), Err: err}
	}
	d := &Dir{loc: l, b: b, opts: o, close: closeClient, owner: true, stats: &counters{}}
	if l.Scheme != Local {
		d.cache = o.Cache
		if l.Prefix != "" {
			d.prefix = l.Prefix + "/"
		}
		// One listing proves the bucket exists and the credentials may
		// read it, so that a typo fails here, naming the URL.
		err := d.retry(ctx, "open", l.String(), func(ctx context.Context, wd *watchdog) error {
			_, _, err := b.ListPage(ctx, blob.FirstPageToken, 1, &blob.ListOptions{Prefix: d.prefix})
			return err
		})
		if err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

// Location is where the Dir is.
func (d *Dir) Location() Location { return d.loc }

// String is the Dir's URL, or its local path.
func (d *Dir) String() string { return d.loc.String() }

// URL is the URL (or local path) of key, for messages.
func (d *Dir) URL(key string) string { return d.loc.Join(key).String() }

// IsLocal reports whether the Dir is a local directory.
func (d *Dir) IsLocal() bool { return d.loc.Scheme == Local }

// LocalPath is the file of key when the Dir is local: callers that can
// map a file use it directly.
func (d *Dir) LocalPath(key string) (string, bool) {
	if d.loc.Scheme != Local {
		return "", false
	}
	return filepath.Join(d.loc.Prefix, filepath.FromSlash(key)), true
}

// Sub is the Dir of the keys under sub. It shares d's client, cache and
// statistics, and needs no Close of its own.
func (d *Dir) Sub(sub string) (*Dir, error) {
	if err := checkKey(sub); err != nil {
		return nil, fmt.Errorf("open %s: %w", d.URL(sub), err)
	}
	s := *d
	s.loc = d.loc.Join(sub)
	s.owner = false
	s.prefix = d.prefix + sub + "/"
	return &s, nil
}

// Stats returns the counts so far.
func (d *Dir) Stats() Stats {
	return Stats{
		Requests:     d.stats.requests.Load(),
		Retries:      d.stats.retries.Load(),
		BytesRead:    d.stats.read.Load(),
		BytesWritten: d.stats.written.Load(),
	}
}

// Close releases the client. Objects and Writers of the Dir must be
// closed first.
func (d *Dir) Close() error {
	if !d.owner {
		return nil
	}
	err := d.b.Close()
	d.close()
	return err
}

func (d *Dir) key(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return d.prefix + key, nil
}

// Info describes one object.
type Info struct {
	Key     string // relative to the Dir
	Size    int64
	ModTime time.Time
	ETag    string // changes when the object is replaced
}

// Stat returns key's Info; errors.Is(err, fs.ErrNotExist) when it is missing.
func (d *Dir) Stat(ctx context.Context, key string) (Info, error) {
	k, err := d.key(key)
	if err != nil {
		return Info{}, &Error{Op: "stat", URL: d.URL(key), Err: err}
	}
	var a *blob.Attributes
	err = d.retry(ctx, "stat", d.URL(key), func(ctx context.Context, _ *watchdog) error {
		a, err = d.b.Attributes(ctx, k)
		return err
	})
	if err != nil {
		return Info{}, err
	}
	return Info{Key: key, Size: a.Size, ModTime: a.ModTime, ETag: a.ETag}, nil
}

// Exists reports whether key exists. A refused or failed request is an
// error, not a false.
func (d *Dir) Exists(ctx context.Context, key string) (bool, error) {
	_, err := d.Stat(ctx, key)
	if err == nil {
		return true, nil
	}
	if gcerrors.Code(err) == gcerrors.NotFound && !refused(err) {
		return false, nil
	}
	return false, err
}

// fileblobTemp matches the temporary files fileblob writes beside their
// targets until Close renames them.
var fileblobTemp = regexp.MustCompile(`\.[0-9a-f]+\.tmp$`)

// List returns every object whose key starts with prefix (relative to the
// Dir; "" for all), at any depth, sorted by key.
func (d *Dir) List(ctx context.Context, prefix string) ([]Info, error) {
	var out []Info
	token := blob.FirstPageToken
	for {
		var page []*blob.ListObject
		var next []byte
		err := d.retry(ctx, "list", d.URL(prefix), func(ctx context.Context, _ *watchdog) error {
			var err error
			page, next, err = d.b.ListPage(ctx, token, 1000, &blob.ListOptions{Prefix: d.prefix + prefix})
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, o := range page {
			if o.IsDir {
				continue
			}
			key := strings.TrimPrefix(o.Key, d.prefix)
			if d.loc.Scheme == Local && fileblobTemp.MatchString(key) {
				continue
			}
			out = append(out, Info{Key: key, Size: o.Size, ModTime: o.ModTime})
		}
		if len(next) == 0 {
			break
		}
		token = next
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete removes key. Deleting a missing object is not an error, so that
// pruning can be repeated after a crash.
func (d *Dir) Delete(ctx context.Context, key string) error {
	k, err := d.key(key)
	if err != nil {
		return &Error{Op: "delete", URL: d.URL(key), Err: err}
	}
	err = d.retry(ctx, "delete", d.URL(key), func(ctx context.Context, _ *watchdog) error {
		err := d.b.Delete(ctx, k)
		if gcerrors.Code(err) == gcerrors.NotFound && !refused(err) {
			return nil
		}
		return err
	})
	return err
}

// ReadAll reads the whole of key, with the retries and checks of
// Object.ReadAt: it returns every byte the object has, or an error.
func (d *Dir) ReadAll(ctx context.Context, key string) ([]byte, error) {
	o, err := d.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	buf := make([]byte, o.Size())
	if _, err := o.ReadAt(buf, 0); err != nil && !(errors.Is(err, io.EOF) && len(buf) == 0) {
		return nil, err
	}
	return buf, nil
}

// WriteFile writes data to key atomically (see Create).
func (d *Dir) WriteFile(ctx context.Context, key string, data []byte) error {
	w, err := d.Create(ctx, key)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}
