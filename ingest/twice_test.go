package ingest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"weaksup/demo"
	"weaksup/internal/jpegturbo"
	"weaksup/internal/testkit"
	"weaksup/store"
	"weaksup/store/storetest"
	"weaksup/workdir"
)

// stored is what ingest keeps of one record, as comparable values.
type stored struct {
	rec   store.Record // Updated cleared
	image []byte
}

// crawlInto crawls with cfg into a new working directory dir and returns
// every stored record, with its thumbnail and image, by id.
func crawlInto(t *testing.T, dir string, cfg Config) map[string]stored {
	t.Helper()
	wd := workdir.Dir(dir)
	st := storetest.Open(t, wd)
	defer st.Close()
	if _, err := Run(context.Background(), st, wd, cfg, nil); err != nil {
		t.Fatal(err)
	}
	out := map[string]stored{}
	err := st.Records(func(r *store.Record) error {
		s := stored{rec: *r}
		s.rec.Updated = time.Time{} // when it was fetched is no output
		if r.OK() {
			b, err := st.Image(r.ID)
			if err != nil {
				return err
			}
			s.image = bytes.Clone(b)
		}
		out[r.ID] = s
		return nil
	})
	if err == nil {
		err = st.HashRows(func(id string, _ uint64, _ [32]byte, thumb []byte) error {
			s := out[id]
			s.rec.Thumbnail = bytes.Clone(thumb)
			out[id] = s
			return nil
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIngestSameWorldTwice crawls a small generated demo world twice from
// its loopback server, which fails some URLs on purpose, with a few more
// records whose images a second server cuts short inside their SOS
// segment (the demo server cuts at 40-70%, which lands there now and then):
// both crawls must store the same records, images, perceptual hashes and
// thumbnails, byte for byte, and every stored image must be what
// normalizing its file with a new codec gives. With libjpeg-turbo
// decompressors kept in the pooled codecs, the codec that took such a JPEG
// decoded every later one with image/jpeg, and about one stored JPEG in
// four of the demo world differed between two crawls.
func TestIngestSameWorldTwice(t *testing.T) {
	wc := demo.Quick()
	wc.Concepts, wc.CrawlImages, wc.ImageSize = 8, 160, 48
	wc.TargetClasses, wc.TargetTrain, wc.TargetVal, wc.Duplicates = 1, 1, 1, 0
	w, err := demo.Generate(context.Background(), filepath.Join(t.TempDir(), "world"), wc)
	if err != nil {
		t.Fatal(err)
	}
	srv := demo.NewServer(w.Dir, demo.ServerConfig{Seed: 1, TruncatedRate: 0.05, GarbledRate: 0.03, NotImageRate: 0.02, NotFoundRate: 0.02})
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	path := func(id string) string { return filepath.Join(w.Dir, demo.ImagesDir, id+".jpg") }
	cutSrv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, err := os.ReadFile(path(strings.TrimPrefix(r.URL.Path, "/cut/")))
		sos := bytes.Index(b, []byte{0xff, 0xda})
		if err != nil || sos < 0 {
			t.Errorf("%s: no JPEG with an SOS marker to cut (%v)", r.URL.Path, err)
			http.NotFound(rw, r)
			return
		}
		b = b[:sos+7]
		rw.Header().Set("Content-Length", strconv.Itoa(len(b)))
		rw.Write(b)
	}))
	defer cutSrv.Close()
	truth, err := w.Truth()
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	for i, r := range truth {
		recs = append(recs, map[string]any{"id": r.ID, "url": demo.ImageURL(srv.URL(), r.ID), "tags": r.Tagged})
		if i%20 == 5 {
			recs = append(recs, map[string]any{"id": "cut-" + r.ID, "url": cutSrv.URL + "/cut/" + r.ID, "tags": r.Tagged})
		}
	}
	input := writeJSONL(t, t.TempDir(), recs)

	for _, size := range []int{0, 32} { // the demo keeps the generated size; 32 is DCT-scaled
		cfg := patient(testConfig(input))
		cfg.ImageSize = size
		cfg.Retries = 0
		dir := t.TempDir()
		first := crawlInto(t, filepath.Join(dir, "first"), cfg)
		second := crawlInto(t, filepath.Join(dir, "second"), cfg)
		ok, differ := 0, 0
		for id, a := range first {
			b, found := second[id]
			switch {
			case !found:
				t.Errorf("size %d: %s stored by the first crawl only", size, id)
				continue
			case !reflect.DeepEqual(a, b):
				if differ++; differ <= 5 {
					t.Errorf("size %d (%s): %s differs between the crawls: outcome %s / %s, pHash %016x / %016x, images equal %v, thumbnails equal %v",
						size, jpegturbo.Codec, id, a.rec.Outcome, b.rec.Outcome, a.rec.PHash, b.rec.PHash,
						bytes.Equal(a.image, b.image), bytes.Equal(a.rec.Thumbnail, b.rec.Thumbnail))
				}
			}
			if !a.rec.OK() {
				continue
			}
			ok++
			c := new(codec)
			img, outcome := c.normalize(testkit.ReadFile(t, path(id)), cfg.imageConfig())
			c.dec.Close()
			c.enc.Close()
			if outcome != "" || !bytes.Equal(img.JPEG, a.image) || img.PHash != a.rec.PHash {
				if differ++; differ <= 5 {
					t.Errorf("size %d (%s): %s stored pHash %016x and a JPEG of %d bytes; normalizing its file with a new codec gives %q, %016x, %d bytes (equal %v)",
						size, jpegturbo.Codec, id, a.rec.PHash, len(a.image), outcome, img.PHash, len(img.JPEG), bytes.Equal(img.JPEG, a.image))
				}
			}
		}
		if len(second) != len(first) {
			t.Errorf("size %d: the crawls stored %d and %d records", size, len(first), len(second))
		}
		if differ > 0 {
			t.Errorf("size %d: %d differences in %d records", size, differ, len(first))
		}
		if ok < 100 {
			t.Errorf("size %d: %d records stored; the test needs at least 100", size, ok)
		}
		for id, s := range first {
			if strings.HasPrefix(id, "cut-") && s.rec.Outcome != OutcomeDecodeError {
				t.Errorf("size %d: %s, cut inside its SOS segment: outcome %q, want %q", size, id, s.rec.Outcome, OutcomeDecodeError)
			}
		}
	}
}
