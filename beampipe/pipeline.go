package beampipe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"weaksup/dedup"
	"weaksup/ingest"
	"weaksup/pipeline"
	"weaksup/storage"
	"weaksup/store"
)

// DefaultChunkLines is the default ingest chunk: the unit of resumption
// and of work handed to a worker.
const DefaultChunkLines = 1000

// Options configures a Beam run of the data stages.
type Options struct {
	Workdir    string          // local path (created if missing) or gs:// or s3:// URL
	Config     pipeline.Config // the stages' configuration, as `pipeline run` takes it
	ChunkLines int             // input lines per ingest chunk
	Runner     string          // a registered Beam runner: prism, dataflow, flink, spark, universal
	Log        io.Writer
}

// Result is what a run reports: the job's counters, summed over steps.
type Result struct {
	Chunks   int
	Counters map[string]int64
}

// Run plans the input, builds the pipeline and runs it on o.Runner. Errors
// of the job come back as the failing step's own message.
func Run(ctx context.Context, o Options) (*Result, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	if !beam.Initialized() {
		return nil, errors.New("run beam pipeline: beam.Init was not called (call it after parsing flags)")
	}
	cfg := o.Config
	if err := cfg.Ingest.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Canonicalize.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Shards.Validate(); err != nil {
		return nil, err
	}
	if cfg.Ingest.Partition != "" || cfg.Ingest.MaxRecords != 0 {
		return nil, fmt.Errorf("flags --ingest-partition and --max-records: not supported with --runner (Beam splits the input itself)")
	}
	if o.Workdir == "" {
		return nil, fmt.Errorf("flag --workdir: no working directory given")
	}
	wdLoc := o.Workdir
	if !storage.IsURL(wdLoc) {
		abs, err := filepath.Abs(wdLoc)
		if err != nil {
			return nil, fmt.Errorf("flag --workdir: %w", err)
		}
		wdLoc = abs
	} else if _, err := storage.ParseLocation(wdLoc); err != nil {
		return nil, fmt.Errorf("flag --workdir: %w", err)
	}
	wdir, err := workdirOf(wdLoc)
	if err != nil {
		return nil, fmt.Errorf("flag --workdir: %w", err)
	}
	// The launcher's own files (the test sets' hashes, cached between
	// runs): the working directory, or a local cache for a URL.
	wd, err := launcherDir(wdLoc)
	if err != nil {
		return nil, err
	}
	chunkLines := o.ChunkLines
	if chunkLines == 0 {
		chunkLines = DefaultChunkLines
	}
	// The embedded pipeline's checks first, so a missing input or test
	// set gives its error, before anything is crawled. The test sets are
	// listed once: the catalog is loaded from this listing.
	if !strings.Contains(cfg.Ingest.Input, "://") {
		if _, err := cfg.Ingest.Fingerprint(); err != nil {
			return nil, err
		}
	}
	testsets, err := cfg.Dedup.List()
	if err != nil {
		return nil, err
	}
	format, chunks, err := Plan(ctx, cfg.Ingest.Input, cfg.Ingest.Format, chunkLines)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "ingest: %s (%s) in %d chunks of %d lines\n", cfg.Ingest.Input, format, len(chunks), chunkLines)
	dc := testsets.Config()
	cat, err := dedup.LoadCatalog(ctx, wd, testsets, log)
	if err != nil {
		return nil, err
	}
	catBytes, err := cat.MarshalBinary()
	if err != nil {
		return nil, err
	}
	out := cfg.Shards.Out
	if out == "" {
		out = joinLoc(wdLoc, "shards")
	}
	// A local shard directory is built beside the output and swapped in;
	// one at a URL is written in place, its old manifest deleted first
	// and the new one written last (as the shards stage does).
	tmp, dest := "", out
	if storage.IsURL(out) {
		if err := dropManifest(ctx, out); err != nil {
			return nil, err
		}
	} else {
		if out, err = filepath.Abs(out); err != nil {
			return nil, fmt.Errorf("flag --out: %w", err)
		}
		tmp = out + ".new"
		if err := os.RemoveAll(tmp); err != nil {
			return nil, fmt.Errorf("clear %s: %w", tmp, err)
		}
		dest = tmp
	}

	p, s := beam.NewPipelineWithRoot()
	build(s, wdLoc, format, chunks, catBytes, cfg, dc, dest, tmp, out)
	runner := o.Runner
	if runner == "" {
		runner = "prism"
	}
	res, err := beam.Run(ctx, runner, p)
	if err != nil {
		return nil, fmt.Errorf("%s", RootCause(err))
	}
	r := &Result{Chunks: len(chunks), Counters: map[string]int64{}}
	if res != nil {
		for _, c := range res.Metrics().AllMetrics().Counters() {
			r.Counters[c.Namespace()+"/"+c.Name()] += c.Result()
		}
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := wdir.WriteFile(ctx, "beam/metrics.json", append(b, '\n')); err != nil {
		return r, err
	}
	for _, name := range []string{"line-errors.txt", "dedup-summary.txt"} {
		if b, err := wdir.ReadAll(ctx, "beam/"+name); err == nil {
			log.Write(b)
		}
	}
	fmt.Fprintf(log, "beam: done: %s\n", pipeline.FormatCounts(r.Counters))
	return r, nil
}

// RootCause extracts the failing step's own message from a Beam job error,
// which arrives as text with the runner's context around it (it crossed
// the Fn API): the text after the last "DoFn[...] failed:".
func RootCause(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "] failed:\n"); i >= 0 && strings.Contains(msg[:i], "DoFn[") {
		msg = strings.TrimSpace(msg[i+len("] failed:\n"):])
	}
	return msg
}

func build(s beam.Scope, wd, format string, chunks []Chunk, catalog []byte, cfg pipeline.Config, dc dedup.Config, dest, tmp, out string) {
	imp := beam.Impulse(s)

	is := s.Scope("ingest")
	planned := beam.Reshuffle(is, beam.CreateList(is, chunks))
	recs, lineErrs := beam.ParDo2(is, &ingestFn{Cfg: cfg.Ingest, Format: format, Workdir: wd}, planned)
	beam.ParDo0(is, &lineErrorsFn{Workdir: wd}, imp, beam.SideInput{Input: lineErrs})
	dups := beam.ParDo(is, dupIDs, beam.GroupByKey(is, beam.ParDo(is, idLine, recs)))
	ok := beam.ParDo(is, &firstOfID{}, recs, beam.SideInput{Input: dups})

	cs := s.Scope("canonicalize")
	tally := stats.SumPerKey(cs, beam.ParDo(cs, &countFn{Cfg: cfg.Canonicalize}, ok))
	vocab := beam.ParDo(cs, &vocabFn{Cfg: cfg.Canonicalize, Workdir: wd}, imp, beam.SideInput{Input: tally})

	ds := s.Scope("dedup")
	cat := beam.Create(ds, catalog)
	matched, matches, counts := beam.ParDo3(ds, &matchFn{Cfg: dc}, ok, beam.SideInput{Input: cat})

	labelled, labels := beam.ParDo2(cs, &labelFn{Cfg: cfg.Canonicalize}, matched, beam.SideInput{Input: vocab})
	final := beam.ParDo(cs, &writeVocabFn{Workdir: wd}, vocab, beam.SideInput{Input: stats.Count(cs, labels)})

	grouped := beam.GroupByKey(ds, beam.ParDo(ds, bySHA, labelled))
	survivors, repeats, repeatDrops := beam.ParDo3(ds, &firstOfSHA{KeepRepeats: dc.KeepRepeats}, grouped)
	drops := beam.Flatten(ds, beam.ParDo(ds, testsetDrop, matched), repeatDrops)
	beam.ParDo0(ds, &reportFn{Cfg: dc, Workdir: wd}, imp, beam.SideInput{Input: cat}, beam.SideInput{Input: matches},
		beam.SideInput{Input: repeats}, beam.SideInput{Input: drops}, beam.SideInput{Input: stats.SumPerKey(ds, counts)})

	ss := s.Scope("shards")
	totals := stats.SumPerKey(ss, beam.ParDo(ss, &splitBytesFn{Cfg: cfg.Shards}, survivors))
	keyed := beam.ParDo(ss, &shardOfFn{Cfg: cfg.Shards}, survivors, beam.SideInput{Input: totals})
	files := beam.ParDo(ss, &writeShardFn{Cfg: cfg.Shards, Workdir: wd, Dest: dest}, beam.GroupByKey(ss, keyed))
	beam.ParDo0(ss, &manifestFn{Cfg: cfg.Shards, Tmp: tmp, Out: out}, imp, beam.SideInput{Input: final}, beam.SideInput{Input: files})
}

// idLine keys a record's input line by its id, to find ids that appear in
// more than one chunk.
func idLine(r Rec) (string, int64) { return r.ID, r.Line }

// dupIDs emits, for an id on more than one line, the line that is kept:
// the first, as the embedded crawl skips later lines with a seen id.
func dupIDs(id string, lines func(*int64) bool, emit func(string, int64)) {
	var n int
	var first, l int64
	for lines(&l) {
		if n == 0 || l < first {
			first = l
		}
		n++
	}
	if n > 1 {
		emit(id, first)
	}
}

// firstOfID passes the ok records whose id was not seen on an earlier line.
type firstOfID struct {
	keep map[string]int64
}

func (f *firstOfID) ProcessElement(ctx context.Context, r Rec, dups func(*string, *int64) bool, emit func(Rec)) {
	if f.keep == nil {
		f.keep = map[string]int64{}
		var id string
		var l int64
		for dups(&id, &l) {
			f.keep[id] = l
		}
	}
	if l, dup := f.keep[r.ID]; dup && l != r.Line {
		beam.NewCounter("ingest", "skipped_"+ingest.SkipDuplicateID).Inc(ctx, 1)
		return
	}
	if r.Outcome == store.OutcomeOK {
		emit(r)
	}
}

// lineErrorsFn writes the first bad lines of the input (ten per reason,
// videos not listed), as the embedded crawl logs them.
type lineErrorsFn struct {
	Workdir string
}

func (f *lineErrorsFn) ProcessElement(ctx context.Context, _ []byte, errs func(*LineErr) bool) error {
	var all []LineErr
	var le LineErr
	for errs(&le) {
		all = append(all, le)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Line < all[j].Line })
	per := map[string]int{}
	var b strings.Builder
	for _, le := range all {
		per[le.Reason]++
		if per[le.Reason] <= 10 && le.Reason != ingest.ReasonVideo {
			b.WriteString(le.Msg + "\n")
		}
	}
	d, err := workdirOf(f.Workdir)
	if err != nil {
		return err
	}
	return d.WriteFile(ctx, "beam/line-errors.txt", []byte(b.String()))
}
