package storage

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"
)

// Scheme is the kind of place a location names.
type Scheme string

// The schemes a location may have.
const (
	Local Scheme = "file" // a directory on a local (or mounted) file system
	GCS   Scheme = "gs"   // Google Cloud Storage
	S3    Scheme = "s3"   // Amazon S3 or an S3-compatible service
)

// Location is a parsed location: a local directory, or a bucket and a
// prefix inside it.
type Location struct {
	Scheme Scheme
	Bucket string // empty for Local
	// Prefix is the key prefix inside the bucket, without leading or
	// trailing slash (possibly empty); for Local, the directory, cleaned.
	Prefix string
}

// IsURL reports whether s names an object store (gs:// or s3://) rather
// than a local path.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "gs://") || strings.HasPrefix(s, "s3://")
}

// ParseLocation reads "gs://BUCKET/PREFIX", "s3://BUCKET/PREFIX",
// "file:///abs/dir" or a local path.
func ParseLocation(s string) (Location, error) {
	if s == "" {
		return Location{}, fmt.Errorf("parse location: empty")
	}
	if !strings.Contains(s, "://") {
		return Location{Scheme: Local, Prefix: filepath.Clean(s)}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return Location{}, fmt.Errorf("parse location %s: %w", s, err)
	}
	switch Scheme(u.Scheme) {
	case Local:
		if u.Host != "" && u.Host != "localhost" {
			return Location{}, fmt.Errorf("parse location %s: a file URL names no host", s)
		}
		if u.Path == "" {
			return Location{}, fmt.Errorf("parse location %s: no path", s)
		}
		return Location{Scheme: Local, Prefix: filepath.Clean(filepath.FromSlash(u.Path))}, nil
	case GCS, S3:
	default:
		return Location{}, fmt.Errorf("parse location %s: unknown scheme %q (want gs://, s3://, file:// or a local path)", s, u.Scheme)
	}
	if u.Host == "" {
		return Location{}, fmt.Errorf("parse location %s: no bucket", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return Location{}, fmt.Errorf("parse location %s: want SCHEME://BUCKET/PREFIX with no query, fragment or user", s)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		if err := checkKey(prefix); err != nil {
			return Location{}, fmt.Errorf("parse location %s: %w", s, err)
		}
	}
	return Location{Scheme: Scheme(u.Scheme), Bucket: u.Host, Prefix: prefix}, nil
}

// String is the location as a URL, or the local path.
func (l Location) String() string {
	if l.Scheme == Local {
		return l.Prefix
	}
	if l.Prefix == "" {
		return string(l.Scheme) + "://" + l.Bucket
	}
	return string(l.Scheme) + "://" + l.Bucket + "/" + l.Prefix
}

// Join is the location of key below l.
func (l Location) Join(key string) Location {
	if l.Scheme == Local {
		l.Prefix = filepath.Join(l.Prefix, filepath.FromSlash(key))
		return l
	}
	l.Prefix = strings.Trim(path.Join(l.Prefix, key), "/")
	return l
}

// checkKey accepts slash-separated relative keys with no empty, "." or
// ".." element and no control characters, so that a key means the same
// object on every backend and never escapes its directory.
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("empty key")
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return fmt.Errorf("key %q has a control character or backslash", key)
		}
	}
	for _, el := range strings.Split(key, "/") {
		switch el {
		case "", ".", "..":
			return fmt.Errorf("key %q has an empty, \".\" or \"..\" element", key)
		}
	}
	return nil
}
