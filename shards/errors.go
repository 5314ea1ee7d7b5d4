package shards

import "errors"

var (
	// ErrSchema is wrapped by errors about a file whose Arrow schema is not
	// the shard schema.
	ErrSchema = errors.New("not a weaksup shard schema")
	// ErrCorrupt is wrapped by errors about a shard whose bytes or contents do
	// not match the manifest or cannot be decoded.
	ErrCorrupt = errors.New("corrupt shard")
	// ErrManifest is wrapped by errors about a missing or malformed manifest.json.
	ErrManifest = errors.New("bad shard manifest")
)
