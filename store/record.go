package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// OutcomeOK is the Outcome of a record fetched and stored. Ingest defines
// the failure reasons; an empty Outcome means the record was not tried.
const OutcomeOK = "ok"

// Record is one crawled record: where it came from, what happened when it
// was fetched, and what the stored image is.
type Record struct {
	ID       string   `json:"id"`
	URL      string   `json:"url"`
	RawTags  []string `json:"raw_tags,omitempty"` // hashtags as found in the input
	Caption  string   `json:"caption,omitempty"`
	Source   string   `json:"source,omitempty"` // "file.jsonl:123"
	Outcome  string   `json:"outcome"`          // "ok", a failure reason, or "" when not attempted
	Attempts int      `json:"attempts"`
	Width    int      `json:"width,omitempty"`  // of the stored JPEG
	Height   int      `json:"height,omitempty"` // of the stored JPEG
	SHA256   [32]byte `json:"sha256"`           // of the downloaded source bytes
	PHash    uint64   `json:"phash"`            // 64-bit DCT perceptual hash
	// Thumbnail is the small grey and colour copy of the stored image that
	// dedup verifies candidates with (package thumbnail). It is kept in the
	// hash index only: Record and Records leave it empty; HashRows reads it.
	Thumbnail []byte    `json:"-"`
	Updated   time.Time `json:"updated"`
}

// OK reports whether the record was fetched and stored successfully.
func (r *Record) OK() bool { return r.Outcome == OutcomeOK }

// A hash index value is a version byte, the perceptual hash (uint64 LE)
// and the SHA-256; from hashVersion 2 on the thumbnail follows, to the end
// of the value. Version 1 values (stores crawled before thumbnails) are
// read with an empty thumbnail.
const (
	hashValueLen = 1 + 8 + 32
	hashVersion  = 2
)

func encodeHash(r *Record) []byte {
	v := make([]byte, hashValueLen+len(r.Thumbnail))
	v[0] = hashVersion
	binary.LittleEndian.PutUint64(v[1:9], r.PHash)
	copy(v[9:], r.SHA256[:])
	copy(v[hashValueLen:], r.Thumbnail)
	return v
}

// decodeHash splits a hash index value; thumb aliases v.
func decodeHash(k, v []byte) (phash uint64, sha [32]byte, thumb []byte, err error) {
	switch {
	case len(v) == hashValueLen && v[0] == FormatVersion:
	case len(v) >= hashValueLen && v[0] == hashVersion:
		thumb = v[hashValueLen:]
	default:
		return 0, sha, nil, fmt.Errorf("read hash %q: %w", k, ErrVersion)
	}
	copy(sha[:], v[9:hashValueLen])
	return binary.LittleEndian.Uint64(v[1:9]), sha, thumb, nil
}

func encodeRecord(r *Record) ([]byte, error) {
	if r.ID == "" {
		return nil, fmt.Errorf("put record with url %q: empty id", r.URL)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode record %s: %w", r.ID, err)
	}
	return versioned(b), nil
}

func decodeRecord(k, v []byte) (*Record, error) {
	p, err := unversion(k, v)
	if err != nil {
		return nil, err
	}
	r := new(Record)
	if err := json.Unmarshal(p, r); err != nil {
		return nil, fmt.Errorf("decode record %q: %w", k, err)
	}
	return r, nil
}

// PutRecord stores a record and, when image is non-nil, its image bytes, in
// one transaction. An ok record is also written to the hash index.
func (s *Store) PutRecord(r *Record, image []byte) error {
	b := s.NewBatch()
	if err := b.PutRecord(r, image); err != nil {
		b.Cancel()
		return err
	}
	return b.Flush()
}

// Record returns the record with the given id.
func (s *Store) Record(id string) (*Record, error) {
	k := key(tabRecord, id)
	v, err := s.get(k)
	if err != nil {
		return nil, err
	}
	return decodeRecord(k, v)
}

// Image returns the stored image bytes of a record.
func (s *Store) Image(id string) ([]byte, error) {
	return s.get(key(tabImage, id))
}

// Records calls fn for every record in key order. Returning an error from fn
// stops the scan and returns that error.
func (s *Store) Records(fn func(*Record) error) error {
	return s.scan(tabRecord, true, func(k, v []byte) error {
		r, err := decodeRecord(k, v)
		if err != nil {
			return err
		}
		return fn(r)
	})
}

// Hashes calls fn with the perceptual hash and SHA-256 of every ok record,
// in key order, without decoding record metadata.
func (s *Store) Hashes(fn func(id string, phash uint64, sha [32]byte) error) error {
	return s.HashRows(func(id string, phash uint64, sha [32]byte, _ []byte) error { return fn(id, phash, sha) })
}

// HashRows calls fn with the perceptual hash, SHA-256 and thumbnail of
// every ok record, in key order. The thumbnail is only valid during the
// call, and empty for a record stored before thumbnails were.
func (s *Store) HashRows(fn func(id string, phash uint64, sha [32]byte, thumb []byte) error) error {
	return s.scan(tabHash, true, func(k, v []byte) error {
		ph, sha, thumb, err := decodeHash(k, v)
		if err != nil {
			return err
		}
		return fn(string(k[len(tabHash):]), ph, sha, thumb)
	})
}
