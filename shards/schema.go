package shards

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Column names of a shard, in schema order.
const (
	ColKey     = "key"
	ColImage   = "image"
	ColWidth   = "width"
	ColHeight  = "height"
	ColLabels  = "labels"
	ColTags    = "tags"
	ColRawTags = "raw_tags"
	ColURL     = "url"
	ColPHash   = "phash"
	ColSHA256  = "sha256"
)

// Column indices in the schema; they follow the order of the constants above.
const (
	colKey = iota
	colImage
	colWidth
	colHeight
	colLabels
	colTags
	colRawTags
	colURL
	colPHash
	colSHA256
	numCols
)

// schemaVersion is written into the Arrow schema metadata and the manifest;
// a reader refuses files of another version instead of misreading them.
const schemaVersion = "1"

var shardSchema = arrow.NewSchema([]arrow.Field{
	{Name: ColKey, Type: arrow.BinaryTypes.String},
	{Name: ColImage, Type: arrow.BinaryTypes.Binary},
	{Name: ColWidth, Type: arrow.PrimitiveTypes.Int32},
	{Name: ColHeight, Type: arrow.PrimitiveTypes.Int32},
	{Name: ColLabels, Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)},
	{Name: ColTags, Type: arrow.ListOf(arrow.BinaryTypes.String)},
	{Name: ColRawTags, Type: arrow.ListOf(arrow.BinaryTypes.String)},
	{Name: ColURL, Type: arrow.BinaryTypes.String},
	{Name: ColPHash, Type: arrow.PrimitiveTypes.Uint64},
	{Name: ColSHA256, Type: &arrow.FixedSizeBinaryType{ByteWidth: 32}},
}, func() *arrow.Metadata {
	m := arrow.NewMetadata([]string{"weaksup.shard.version"}, []string{schemaVersion})
	return &m
}())

// Row is one training record as stored in a shard.
type Row struct {
	Key     string   // record id in the working store
	Image   []byte   // normalized JPEG bytes
	Width   int32    // of the stored JPEG
	Height  int32    //
	Labels  []int32  // vocabulary ids, in the order canonicalize assigned them
	Tags    []string // canonical tags, parallel to Labels
	RawTags []string // hashtags as found in the input
	URL     string
	PHash   uint64
	SHA256  [32]byte // of the downloaded source bytes
}

// checkSchema reports how got differs from the shard schema, ignoring
// metadata other than the version key.
func checkSchema(got *arrow.Schema) error {
	if got.NumFields() != numCols {
		return fmt.Errorf("%w: %d columns, want %d", ErrSchema, got.NumFields(), numCols)
	}
	for i, want := range shardSchema.Fields() {
		f := got.Field(i)
		if f.Name != want.Name || !arrow.TypeEqual(f.Type, want.Type) {
			return fmt.Errorf("%w: column %d is %s %s, want %s %s", ErrSchema, i, f.Name, f.Type, want.Name, want.Type)
		}
	}
	md := got.Metadata()
	if v, ok := md.GetValue("weaksup.shard.version"); ok && v != schemaVersion {
		return fmt.Errorf("%w: shard format version %s, this build reads %s", ErrSchema, v, schemaVersion)
	}
	return nil
}
