package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"sync"
	"time"

	"weaksup/progress"
	"weaksup/store"
	"weaksup/workdir"
)

// Reasons a record read from the input is not fetched in this run.
const (
	SkipDone        = "skipped_done"    // a final outcome is already stored
	SkipDuplicateID = "duplicate_id"    // the id appeared earlier in the input
	SkipPartition   = "other_partition" // belongs to another --ingest-partition
	SkipBadID       = "bad_id"          // the id cannot be stored
)

// Final reports whether a stored record needs no further fetch: it is ok,
// failed permanently, or has used up maxAttempts requests.
func Final(r *store.Record, maxAttempts int) bool {
	if r.Outcome == "" {
		return false
	}
	return !Transient(r.Outcome) || r.Attempts >= maxAttempts
}

// RecordID returns the store id of an input: its own id, or one derived
// from the URL when it has none.
func RecordID(in Input) string {
	if in.ID != "" {
		return in.ID
	}
	h := sha256.Sum256([]byte(in.URL))
	return "u" + hex.EncodeToString(h[:16])
}

type job struct {
	in    Input
	id    string
	prior int // requests made in earlier runs
}

// Fetched is what the crawl of one record produced: the record with its
// outcome, the normalized JPEG of an ok record, and the traffic it took.
type Fetched struct {
	Record   *store.Record
	JPEG     []byte
	Host     string
	Requests int
	Bytes    int64 // downloaded
}

type result = Fetched

// Stage is the pipeline stage name of the crawl.
const Stage = "ingest"

// Run crawls cfg.Input into st and returns the run's statistics (also
// written as JSON to <workdir>/ingest-stats/). When ctx ends, Run stores
// what has been fetched and returns the statistics so far with ctx's error;
// a rerun resumes.
func Run(ctx context.Context, st *store.Store, wd workdir.Dir, cfg Config, log io.Writer) (*Stats, error) {
	if log == nil {
		log = io.Discard
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	in, err := OpenInput(cfg.Input, cfg.Format, cfg.Columns)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	part, nparts, _ := cfg.partition()

	stats := newStats(cfg, in.Format)
	bar := progress.New(log, -1, Stage)
	fmt.Fprintf(log, "ingest: crawling %s (%s), %d in flight, %d per host\n", cfg.Input, in.Format, cfg.Concurrency, cfg.PerHost)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		// Count in the background so the crawl starts at once; the bar
		// shows an ETA when the count arrives.
		if n, err := CountLines(ctx, cfg.Input, in.Format); err == nil {
			if cfg.MaxRecords > 0 {
				n = min(n, cfg.MaxRecords)
			}
			bar.SetTotal(n)
		}
	}()
	crawler := NewCrawler(cfg)
	defer crawler.Close()

	jobs := make(chan job, cfg.Concurrency)
	results := make(chan result, cfg.Concurrency)
	source := SourceName(cfg.Input)

	// Reader: skip what is done, hand the rest to the workers.
	var readErr error
	go func() {
		defer close(jobs)
		readErr = readJobs(ctx, in, st, cfg, part, nparts, jobs, stats, bar, log)
	}()

	// Workers: fetch, normalize.
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				r, err := crawler.Crawl(ctx, j.in, j.id, j.prior, source)
				if err != nil {
					continue // ctx ended: the record stays unattempted
				}
				results <- r
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	writeErr := writeResults(st, cfg, results, stats, bar)
	if writeErr != nil {
		cancel(writeErr)
		for range results {
		}
	}
	bar.Finish()
	stats.finish()
	path, statsErr := stats.write(wd)
	if statsErr == nil {
		fmt.Fprintf(log, "ingest: %s; stats in %s\n", stats.summary(), path)
	}
	switch {
	case writeErr != nil:
		return stats, writeErr
	case readErr != nil:
		return stats, readErr
	case ctx.Err() != nil:
		return stats, context.Cause(ctx)
	}
	return stats, statsErr
}

// readJobs reads the input and sends the records that need a fetch.
func readJobs(ctx context.Context, in Reader, st *store.Store, cfg Config, part, nparts uint64,
	jobs chan<- job, stats *Stats, bar *progress.Bar, log io.Writer) error {
	seen := newIDSet()
	for n := int64(0); cfg.MaxRecords == 0 || n < cfg.MaxRecords; n++ {
		if ctx.Err() != nil {
			return nil
		}
		rec, err := in.Next()
		if err == io.EOF {
			return nil
		}
		var le *LineError
		if errors.As(err, &le) {
			stats.lineError(le)
			if stats.LineErrors[le.Reason] <= 10 && le.Reason != ReasonVideo {
				fmt.Fprintln(log, LineErrorMessage(cfg.Input, le))
			}
			bar.Add(1)
			bar.Inc("bad")
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", cfg.Input, err)
		}
		stats.add(&stats.RecordsRead, 1)
		id := RecordID(rec)
		skip := ""
		switch {
		case !ValidID(id):
			skip = SkipBadID
		case nparts > 1 && idHash(id)%nparts != part:
			skip = SkipPartition
		case !seen.add(id):
			skip = SkipDuplicateID
		}
		prior := 0
		if skip == "" {
			old, err := st.Record(id)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return fmt.Errorf("look up record %s: %w", id, err)
			case Final(old, cfg.MaxAttempts):
				skip = SkipDone
			default:
				prior = old.Attempts
			}
		}
		if skip != "" {
			stats.skip(skip)
			bar.Add(1)
			bar.Inc("skipped")
			continue
		}
		select {
		case jobs <- job{in: rec, id: id, prior: prior}:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

func idHash(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// crawlOne fetches and normalizes one record. It fails only when ctx ends.
func crawlOne(ctx context.Context, f *Fetcher, decode chan struct{}, cfg Config, j job, source string) (result, error) {
	rec := &store.Record{
		ID: j.id, URL: j.in.URL, RawTags: recordTags(j.in), Caption: j.in.Caption,
		Source: source + ":" + strconv.FormatInt(j.in.Line, 10),
	}
	resp, err := f.Fetch(ctx, j.in.URL, min(1+cfg.Retries, cfg.MaxAttempts-j.prior))
	if err != nil {
		return result{}, err
	}
	r := result{Record: rec, Host: resp.Host, Requests: resp.Attempts, Bytes: int64(len(resp.Body))}
	rec.Attempts = j.prior + resp.Attempts
	rec.Outcome = resp.Outcome
	if resp.Outcome == "" {
		select {
		case decode <- struct{}{}:
		case <-ctx.Done():
			return result{}, ctx.Err()
		}
		img, outcome := Normalize(resp.Body, cfg.imageConfig())
		<-decode
		rec.SHA256 = img.SHA256
		rec.Outcome = outcome
		if outcome == "" {
			rec.Outcome = store.OutcomeOK
			rec.Width, rec.Height, rec.PHash, rec.Thumbnail = img.Width, img.Height, img.PHash, img.Thumbnail
			r.JPEG = img.JPEG
		}
	}
	rec.Updated = time.Now().UTC()
	return r, nil
}

// writeResults stores results in batches, flushed every FlushRecords
// records or FlushInterval, whichever comes first.
func writeResults(st *store.Store, cfg Config, results <-chan result, stats *Stats, bar *progress.Bar) error {
	flushN := max(cfg.FlushRecords, 1)
	interval := cfg.FlushInterval
	if interval <= 0 {
		interval = time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var pending []result
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		b := st.NewBatch()
		for _, r := range pending {
			if err := b.PutRecord(r.Record, r.JPEG); err != nil {
				b.Cancel()
				return fmt.Errorf("store record %s (%s): %w", r.Record.ID, r.Record.Source, err)
			}
		}
		if err := b.Flush(); err != nil {
			return err
		}
		for _, r := range pending {
			stats.result(r)
			bar.Add(1)
			if r.Record.OK() {
				bar.Inc("ok")
			} else {
				bar.Inc("failed")
			}
		}
		pending = pending[:0]
		return nil
	}
	for {
		select {
		case r, ok := <-results:
			if !ok {
				return flush()
			}
			pending = append(pending, r)
			if len(pending) >= flushN {
				if err := flush(); err != nil {
					return err
				}
			}
		case <-tick.C:
			if err := flush(); err != nil {
				return err
			}
		}
	}
}
