package dedup

import (
	"bytes"
	"image/jpeg"
	"math"
	"testing"

	"weaksup/internal/jpegturbo"
	"weaksup/internal/testkit"
	"weaksup/store"
	"weaksup/thumbnail"
)

// TestStoredThumbnail decodes stored images of records crawled before
// thumbnails were stored (DCT-scaled in libjpeg-turbo builds): their
// thumbnails are within about a level of those of the full decode, on
// average.
func TestStoredThumbnail(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var d jpegturbo.Decoder
	defer d.Close()
	for name, photo := range testkit.Photos(t, photoDir) {
		for _, f := range []float64{1, 0.4} {
			data := testkit.EncodeJPEG(t, scale(photo, f), 85)
			if err := st.PutRecord(&store.Record{ID: name, Outcome: store.OutcomeOK}, data); err != nil {
				t.Fatal(err)
			}
			full, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			want, got := thumbnail.Make(full), storedThumbnail(st, name, &d)
			if len(got) != thumbnail.Len {
				t.Fatalf("%s at %gx: thumbnail of %d bytes, want %d", name, f, len(got), thumbnail.Len)
			}
			var sum, worst float64
			for i := range want {
				diff := math.Abs(float64(got[i]) - float64(want[i]))
				sum, worst = sum+diff, max(worst, diff)
			}
			// A scaled decode whose size rounds up moves the cells by up
			// to a source pixel: a few levels at most, ten at a sharp edge.
			if mean := sum / thumbnail.Len; mean > 1.5 || worst > 16 {
				t.Errorf("%s at %gx (%s, %v): thumbnail differs from the full decode's by %.2f levels on average, %g at most; want <= 1.5 and 16",
					name, f, jpegturbo.Codec, full.Bounds(), mean, worst)
			}
		}
	}
	// A record without an image, or with bytes that do not decode, has none.
	if err := st.PutRecord(&store.Record{ID: "bad", Outcome: store.OutcomeOK}, []byte("not a jpeg")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"bad", "missing"} {
		if th := storedThumbnail(st, id, &d); th != nil {
			t.Errorf("record %s: thumbnail of %d bytes, want none", id, len(th))
		}
	}
}
