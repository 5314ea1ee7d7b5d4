package store

import (
	"errors"
	"fmt"
	"os"

	badger "github.com/dgraph-io/badger/v4"
)

// FormatVersion is written as the first byte of every value.
const FormatVersion byte = 1

var (
	// ErrNotFound is returned when a key is not in the store.
	ErrNotFound = errors.New("not found")
	// ErrVersion is returned for a value written by an unknown format version.
	ErrVersion = errors.New("unsupported store format version")
)

// Table prefixes.
const (
	tabRecord   = "m/"
	tabImage    = "i/"
	tabHash     = "h/"
	tabLabels   = "l/"
	tabDrop     = "d/"
	tabDropByID = "e/"
)

// Store is the Badger-backed working store.
type Store struct {
	db  *badger.DB
	dir string
}

// Open opens (creating if needed) the store in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create store dir %s: %w", dir, err)
	}
	opts := badger.DefaultOptions(dir).
		WithLogger(nil).
		WithValueThreshold(1 << 10). // image bytes go to the value log
		WithNumVersionsToKeep(1).
		WithSyncWrites(false).
		// Fewer, smaller memtables: Badger's default (5 x 64 MiB arenas on
		// the Go heap) alone can pass 400 MiB while a long crawl writes
		// faster than level 0 flushes; with these, writers wait instead.
		WithMemTableSize(32 << 20).
		WithNumMemtables(2)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return &Store{db: db, dir: dir}, nil
}

// Dir returns the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// Close flushes and closes the store. It is safe to call more than once.
func (s *Store) Close() error {
	if s == nil || s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	if err != nil {
		return fmt.Errorf("close store %s: %w", s.dir, err)
	}
	return nil
}

// Sync forces buffered writes to disk.
func (s *Store) Sync() error { return s.db.Sync() }

func key(table, id string) []byte { return []byte(table + id) }

func versioned(payload []byte) []byte {
	v := make([]byte, 1+len(payload))
	v[0] = FormatVersion
	copy(v[1:], payload)
	return v
}

func unversion(k []byte, v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != FormatVersion {
		got := -1
		if len(v) > 0 {
			got = int(v[0])
		}
		return nil, fmt.Errorf("read %q: %w (got %d, want %d)", k, ErrVersion, got, FormatVersion)
	}
	return v[1:], nil
}

// get returns a copy of the raw value at k.
func (s *Store) get(k []byte) ([]byte, error) {
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(k)
		if err != nil {
			return err
		}
		out, err = it.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("get %q: %w", k, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %q: %w", k, err)
	}
	return out, nil
}

// scan calls fn for every key with the given prefix, in key order. The
// value slice is only valid during the call.
func (s *Store) scan(prefix string, fetchValues bool, fn func(k, v []byte) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte(prefix)
		o.PrefetchValues = fetchValues
		o.PrefetchSize = 256
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			var err error
			if fetchValues {
				err = item.Value(func(v []byte) error { return fn(item.Key(), v) })
			} else {
				err = fn(item.Key(), nil)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// dropPrefix removes every key with the given prefix.
func (s *Store) dropPrefix(prefix string) error {
	if err := s.db.DropPrefix([]byte(prefix)); err != nil {
		return fmt.Errorf("clear %q: %w", prefix, err)
	}
	return nil
}

// Count returns how many records the store holds.
func (s *Store) Count() (int, error) {
	n := 0
	err := s.scan(tabRecord, false, func(_, _ []byte) error { n++; return nil })
	return n, err
}
