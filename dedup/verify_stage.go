package dedup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"weaksup/internal/jpegturbo"
	"weaksup/progress"
	"weaksup/store"
	"weaksup/thumbnail"
)

// errStoreChanged is returned when the store's records change between the
// stage's two reads of the hash index.
var errStoreChanged = errors.New("the store changed while dedup ran; run the stage again")

// pending is one candidate of one record, waiting for its verdict.
type pending struct {
	q    int // record, by position in key order
	cand Candidate
	m    Match
	ok   bool
}

// verifyStats counts what the verification did.
type verifyStats struct {
	candidates int64 // (record, test image) pairs verified
	accepted   int64
	decoded    int64 // records stored without a thumbnail whose image was decoded
}

// verifyCandidates reads the hash index a second time, in the same key
// order, and decides every pending candidate (sorted by record) with the
// record's thumbnail on workers goroutines. A record stored before
// thumbnails were (store format 1) has its stored image decoded instead;
// one whose image cannot be decoded is decided by its hash alone.
func verifyCandidates(ctx context.Context, st *store.Store, cat *Catalog, cfg Config, ids []string, cands []pending, log io.Writer) (verifyStats, error) {
	var stats verifyStats
	stats.candidates = int64(len(cands))
	if len(cands) == 0 {
		return stats, nil
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type job struct {
		id     string
		thumb  []byte // nil: decode the stored image
		lo, hi int    // cands[lo:hi] are the record's
	}
	jobs := make(chan job, 256)
	var decoded, accepted int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var jd jpegturbo.Decoder
			defer jd.Close()
			var dec, acc int64
			for j := range jobs {
				if j.thumb == nil {
					j.thumb = storedThumbnail(st, j.id, &jd)
					dec++
				}
				q := NewQuery(j.thumb)
				for k := j.lo; k < j.hi; k++ {
					cands[k].m, cands[k].ok = cat.Verify(cands[k].cand, q, cfg)
					if cands[k].ok {
						acc++
					}
				}
			}
			mu.Lock()
			decoded, accepted = decoded+dec, accepted+acc
			mu.Unlock()
		}()
	}
	bar := progress.New(log, int64(len(cands)), "dedup: verify")
	pos, next := 0, 0
	err := st.HashRows(func(id string, _ uint64, _ [32]byte, thumb []byte) error {
		if pos >= len(ids) || ids[pos] != id {
			return errStoreChanged
		}
		if next < len(cands) && cands[next].q == pos {
			hi := next
			for hi < len(cands) && cands[hi].q == pos {
				hi++
			}
			j := job{id: id, lo: next, hi: hi}
			if len(thumb) > 0 {
				j.thumb = bytes.Clone(thumb)
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
			bar.Add(int64(hi - next))
			next = hi
		}
		pos++
		return nil
	})
	close(jobs)
	wg.Wait()
	bar.Finish()
	if err == nil && (pos != len(ids) || next != len(cands)) {
		err = errStoreChanged
	}
	if err != nil {
		return stats, fmt.Errorf("verify candidates: %w", err)
	}
	stats.decoded, stats.accepted = decoded, accepted
	if decoded > 0 {
		fmt.Fprintf(log, "dedup: %d records were stored without a thumbnail (before store format 2); their stored images were decoded\n", decoded)
	}
	return stats, nil
}

// storedThumbnail decodes a record's stored image (a JPEG, as ingest
// stores them) with d and returns its thumbnail, or nil when there is none
// to decode. The JPEG is decoded DCT-scaled (libjpeg-turbo builds) to the
// smallest size whose shorter side keeps four pixels per thumbnail cell:
// several times less work, and area averages within a level of the full
// decode's on average (a cell on a sharp edge may move by ten, when the
// scaled size rounds up).
func storedThumbnail(st *store.Store, id string, d *jpegturbo.Decoder) []byte {
	b, err := st.Image(id)
	if err != nil {
		return nil
	}
	w, h, err := d.Size(b)
	if err != nil {
		return nil
	}
	img, err := d.Decode(b, jpegturbo.ScaleFor(float64(min(w, h)), storedThumbScale*thumbnail.Side))
	if err != nil {
		return nil
	}
	return thumbnail.Make(img)
}

// storedThumbScale is how many pixels of a decoded stored image each
// thumbnail cell spans at least, along the shorter side.
const storedThumbScale = 4
