package beampipe

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"weaksup/ingest"
	"weaksup/storage"
	"weaksup/store"
)

// chunkOut is what a chunk's .json file holds.
type chunkOut struct {
	Recs       []Rec            `json:"recs"`
	LineErrors []LineErr        `json:"line_errors"`
	Skipped    map[string]int64 `json:"skipped"`
}

// ChunkDir is where chunk outputs go under a local working directory.
func ChunkDir(workdir string) string { return filepath.Join(workdir, "beam", "chunks") }

// ingestFn crawls one chunk, or re-emits it from its files when an
// earlier run finished it.
type ingestFn struct {
	Cfg     ingest.Config
	Format  string
	Workdir string
}

func (f *ingestFn) crawler() (*ingest.Crawler, error) {
	key, err := json.Marshal(f.Cfg)
	if err != nil {
		return nil, err
	}
	return sharedValue("crawler\x00"+string(key), func() (*ingest.Crawler, error) { return ingest.NewCrawler(f.Cfg), nil })
}

func (f *ingestFn) ProcessElement(ctx context.Context, c Chunk, emit func(Rec), lineErr func(LineErr)) error {
	d, err := workdirOf(f.Workdir)
	if err != nil {
		return err
	}
	recKey, jpgKey := chunkKeys(c.Index)
	out, done, err := readChunk(ctx, d, recKey)
	if err != nil {
		return err
	}
	if done {
		beam.NewCounter("ingest", "chunks_skipped").Inc(ctx, 1)
	} else {
		if out, err = f.crawlChunk(ctx, c, d, jpgKey); err != nil {
			return err
		}
		if err := writeChunk(ctx, d, recKey, out); err != nil {
			return err
		}
		beam.NewCounter("ingest", "chunks_crawled").Inc(ctx, 1)
	}
	for _, r := range out.Recs {
		beam.NewCounter("ingest", "outcome_"+r.Outcome).Inc(ctx, 1)
		emit(r)
	}
	for reason, n := range out.Skipped {
		beam.NewCounter("ingest", "skipped_"+reason).Inc(ctx, n)
	}
	for _, le := range out.LineErrors {
		beam.NewCounter("ingest", "line_"+le.Reason).Inc(ctx, 1)
		lineErr(le)
	}
	return nil
}

// crawlChunk reads a chunk's records and crawls them on Cfg.Concurrency
// goroutines through the process's crawler, writing the images to jpgKey
// of the working directory d.
func (f *ingestFn) crawlChunk(ctx context.Context, c Chunk, d *storage.Dir, jpgKey string) (chunkOut, error) {
	out := chunkOut{Skipped: map[string]int64{}}
	r, closer, err := openChunk(ctx, c)
	if err != nil {
		return out, err
	}
	defer closer.Close()
	rd, err := ingest.NewReader(r, f.Format, f.Cfg.Columns)
	if err != nil {
		return out, fmt.Errorf("open %s: %w", c.Path, err)
	}
	// The reader counts lines from 1 at the chunk's start (its header
	// line first for CSV); shift them to the file's lines.
	shift := c.FirstLine - 1
	if c.Header != "" {
		shift--
	}
	var ins []ingest.Input
	var ids []string
	seen := map[string]bool{}
	for {
		in, err := rd.Next()
		if err == io.EOF {
			break
		}
		var le *ingest.LineError
		if errors.As(err, &le) {
			l := *le
			l.Line += shift
			out.LineErrors = append(out.LineErrors, LineErr{Line: l.Line, Reason: l.Reason, Msg: ingest.LineErrorMessage(f.Cfg.Input, &l)})
			continue
		}
		if err != nil {
			return out, fmt.Errorf("read %s (chunk %d, lines %d on): %w", f.Cfg.Input, c.Index, c.FirstLine, err)
		}
		in.Line += shift
		id := ingest.RecordID(in)
		switch {
		case !ingest.ValidID(id):
			out.Skipped[ingest.SkipBadID]++
			continue
		case seen[id]:
			out.Skipped[ingest.SkipDuplicateID]++
			continue
		}
		seen[id] = true
		ins, ids = append(ins, in), append(ids, id)
	}
	cr, err := f.crawler()
	if err != nil {
		return out, err
	}
	res := make([]ingest.Fetched, len(ins))
	next := make(chan int)
	var wg sync.WaitGroup
	source := ingest.SourceName(f.Cfg.Input)
	for range max(1, min(f.Cfg.Concurrency, len(ins))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res[i], _ = cr.Crawl(ctx, ins[i], ids[i], 0, source)
			}
		}()
	}
	for i := range ins {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return out, err
	}
	err = writeObject(ctx, d, jpgKey, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		var off int64
		for i, fr := range res {
			rec := fr.Record
			r := Rec{ID: rec.ID, URL: rec.URL, RawTags: rec.RawTags, Caption: rec.Caption, Source: rec.Source,
				Line: ins[i].Line, Outcome: rec.Outcome, Attempts: rec.Attempts, Width: rec.Width, Height: rec.Height,
				PHash: rec.PHash, Thumb: rec.Thumbnail, Chunk: c.Index}
			if rec.OK() {
				r.SHA256 = append([]byte(nil), rec.SHA256[:]...)
				r.Off, r.Len = off, int64(len(fr.JPEG))
				if _, err := bw.Write(fr.JPEG); err != nil {
					return err
				}
				off += r.Len
			}
			out.Recs = append(out.Recs, r)
		}
		return bw.Flush()
	})
	if err != nil {
		return out, fmt.Errorf("write images of chunk %d: %w", c.Index, err)
	}
	return out, nil
}

// readChunk reads the records of a finished chunk; done is false when the
// chunk has not been finished.
func readChunk(ctx context.Context, d *storage.Dir, key string) (out chunkOut, done bool, err error) {
	b, err := d.ReadAll(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return out, false, nil
	}
	if err != nil {
		return out, false, fmt.Errorf("read finished chunk: %w", err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, false, fmt.Errorf("read finished chunk %s: %w (delete it to crawl the chunk again)", d.URL(key), err)
	}
	return out, true, nil
}

// writeChunk writes a chunk's records, which marks it finished.
func writeChunk(ctx context.Context, d *storage.Dir, key string, out chunkOut) error {
	b, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode chunk %s: %w", d.URL(key), err)
	}
	if err := d.WriteFile(ctx, key, b); err != nil {
		return fmt.Errorf("write chunk: %w", err)
	}
	return nil
}

// writeObject writes key of d with write, atomically: nothing of it is
// seen unless write and the upload (or rename) succeed.
func writeObject(ctx context.Context, d *storage.Dir, key string, write func(io.Writer) error) error {
	w, err := d.Create(ctx, key)
	if err != nil {
		return err
	}
	if err := write(w); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// storeRecord is the store.Record a shard row is made from.
func (r *Rec) storeRecord() *store.Record {
	s := &store.Record{ID: r.ID, URL: r.URL, RawTags: r.RawTags, Caption: r.Caption, Source: r.Source,
		Outcome: r.Outcome, Attempts: r.Attempts, Width: r.Width, Height: r.Height, PHash: r.PHash}
	copy(s.SHA256[:], r.SHA256)
	return s
}

func (r *Rec) shaKey() string { return hex.EncodeToString(r.SHA256) }
