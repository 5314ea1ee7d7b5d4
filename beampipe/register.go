package beampipe

import (
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// Registration by reflection: every DoFn struct and element type with
// beam.RegisterType, every function with beam.RegisterFunction. The
// generic register.DoFnNxM would make calls faster (about a microsecond
// per element and DoFn, nothing next to fetching an image) but costs the
// compiler ~12 CPU-s and ~430 MB per DoFn.
func init() {
	for _, v := range []any{
		&ingestFn{}, &lineErrorsFn{}, &firstOfID{},
		&countFn{}, &vocabFn{}, &labelFn{}, &writeVocabFn{},
		&matchFn{}, &firstOfSHA{}, &reportFn{},
		&splitBytesFn{}, &shardOfFn{}, &writeShardFn{}, &manifestFn{},
		&Chunk{}, &Rec{}, &LineErr{}, &MatchRow{}, &RepeatRow{}, &DropRow{}, &ShardFile{},
	} {
		beam.RegisterType(reflect.TypeOf(v).Elem())
	}
	for _, fn := range []any{idLine, dupIDs, bySHA, testsetDrop} {
		beam.RegisterFunction(fn)
	}
}
