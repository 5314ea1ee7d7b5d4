package wordnet

import (
	_ "embed"
	"sync"
)

//go:generate go run ./internal/gen -dir /usr/share/wordnet -out wn30.bin.zst

// The compact WordNet 3.0 noun database, made from Debian's wordnet-base by
// internal/gen. WordNet's license is in LICENSE-WordNet.txt beside it.
//
//go:embed wn30.bin.zst
var embeddedWN30 []byte

// EmbeddedSource is what Source returns for the embedded database.
const EmbeddedSource = "embedded WordNet 3.0"

var embedded struct {
	once sync.Once
	db   *DB
	err  error
}

// Embedded returns the WordNet 3.0 noun database compiled into the binary.
// It is decoded once, on first use, and shared.
func Embedded() (*DB, error) {
	embedded.once.Do(func() {
		embedded.db, embedded.err = decodeCompactZstd(embeddedWN30)
		if embedded.err == nil {
			embedded.db.source = EmbeddedSource
		}
	})
	return embedded.db, embedded.err
}

// Load opens the database in dir, or returns the embedded one when dir is "".
func Load(dir string) (*DB, error) {
	if dir == "" {
		return Embedded()
	}
	return Open(dir)
}
