package workdir

import "path/filepath"

// Names of the entries of a working directory.
const (
	storeDir       = "store"
	stagesDir      = "stages"
	ingestStatsDir = "ingest-stats"
	vocabFile      = "vocab.tsv"
	hashtagsFile   = "hashtags.tsv"
	testSetsDir    = "testsets"
	reportsDir     = "reports"
	shardsDir      = "shards"
)

// Dir is a working directory.
type Dir string

// String returns the directory's path.
func (d Dir) String() string { return string(d) }

// Store is the working store's directory.
func (d Dir) Store() string { return d.join(storeDir) }

// Stages is the directory of the stage records.
func (d Dir) Stages() string { return d.join(stagesDir) }

// StageRecord is the record file of the named stage.
func (d Dir) StageRecord(stage string) string { return d.join(stagesDir, stage+".json") }

// IngestStats is the directory of the per-run ingest statistics.
func (d Dir) IngestStats() string { return d.join(ingestStatsDir) }

// Vocab is the vocabulary file the canonicalize stage writes.
func (d Dir) Vocab() string { return d.join(vocabFile) }

// Hashtags is the list of distinct hashtags the canonicalize stage writes.
func (d Dir) Hashtags() string { return d.join(hashtagsFile) }

// TestSets is where the dedup stage caches the test sets' hashes.
func (d Dir) TestSets() string { return d.join(testSetsDir) }

// Reports is where the dedup stage writes its report.
func (d Dir) Reports() string { return d.join(reportsDir) }

// Shards is the default shard directory of the shards stage.
func (d Dir) Shards() string { return d.join(shardsDir) }

func (d Dir) join(elem ...string) string {
	return filepath.Join(append([]string{string(d)}, elem...)...)
}
