package beampipe

// Chunk is a line-aligned byte range of the input file, planned by the
// driver. FirstLine is the 1-based line number of its first line; Header
// is the header line a CSV or TSV chunk is read with.
type Chunk struct {
	Index     int
	Path      string
	Start     int64
	End       int64
	FirstLine int64
	Header    string
}

// Rec is one crawled record as it moves through the pipeline. The image
// stays in its chunk's .jpg file (Chunk, Off, Len); only this small row is
// shuffled.
type Rec struct {
	ID       string
	URL      string
	RawTags  []string
	Caption  string
	Source   string
	Line     int64
	Outcome  string
	Attempts int
	Width    int
	Height   int
	SHA256   []byte
	PHash    uint64
	Thumb    []byte
	Chunk    int
	Off      int64
	Len      int64
	Labels   []int32
	Tags     []string
	Drop     string // the dedup drop flag, "" when kept
}

// LineErr is one input line that yields no record.
type LineErr struct {
	Line   int64
	Reason string
	Msg    string // ingest.LineErrorMessage
}

// MatchRow is one verified (record, test image) pair of the dedup report.
type MatchRow struct {
	CrawlID  string
	Set      string
	Image    string
	View     string
	Distance int
	Mirror   bool
	Test     string
	Score    float64
	Chroma   float64
}

// RepeatRow is one exact repeat: CrawlID repeats FirstID's bytes.
type RepeatRow struct {
	CrawlID string
	FirstID string
}

// DropRow is one record dedup drops, with its flag.
type DropRow struct {
	ID     string
	Reason string
}

// ShardFile is one written shard, for the manifest step.
type ShardFile struct {
	Split    string
	Index    int
	File     string
	Rows     int
	Bytes    int64
	SHA256   string
	LabelIDs []int32 // label ids present in the shard ...
	LabelN   []int64 // ... and how many rows carry each
}
