package phash

import (
	"bufio"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/corona10/goimagehash"

	"weaksup/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// photoDir holds the test photographs; dedup's near-duplicate tests use
// the same ones.
var photoDir = filepath.Join("..", "dedup", "testdata", "photos")

// inColorModels returns img converted to every concrete image type the
// decoders produce, plus a sub-image with a non-zero origin.
func inColorModels(img image.Image) map[string]image.Image {
	b := img.Bounds()
	conv := func(dst draw.Image) image.Image {
		draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
		return dst
	}
	rgba := conv(image.NewRGBA(b)).(*image.RGBA)
	return map[string]image.Image{
		"native":   img,
		"rgba":     rgba,
		"nrgba":    conv(image.NewNRGBA(b)),
		"rgba64":   conv(image.NewRGBA64(b)),
		"gray":     conv(image.NewGray(b)),
		"paletted": conv(image.NewPaletted(b, paletteWebSafe())),
		"subimage": rgba.SubImage(image.Rect(b.Min.X+7, b.Min.Y+5, b.Max.X-3, b.Max.Y-9)),
	}
}

func paletteWebSafe() color.Palette {
	var p color.Palette
	for r := 0; r < 6; r++ {
		for g := 0; g < 6; g++ {
			for b := 0; b < 6; b++ {
				p = append(p, color.RGBA{uint8(r * 51), uint8(g * 51), uint8(b * 51), 255})
			}
		}
	}
	return p
}

func TestHashEqualsGoimagehash(t *testing.T) {
	for name, photo := range testkit.Photos(t, photoDir) {
		for model, img := range inColorModels(photo) {
			want, err := goimagehash.PerceptionHash(img)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Hash(img)
			if err != nil {
				t.Fatalf("Hash(%s/%s): %v", name, model, err)
			}
			if got != want.GetHash() {
				t.Errorf("Hash(%s/%s) = %016x, want %016x", name, model, got, want.GetHash())
			}
		}
	}
}

func TestHashEmptyImage(t *testing.T) {
	for _, img := range []image.Image{nil, image.NewRGBA(image.Rect(0, 0, 0, 0)), image.NewGray(image.Rect(3, 3, 3, 9))} {
		if _, err := Hash(img); err != ErrEmptyImage {
			t.Errorf("Hash(%v) error = %v, want ErrEmptyImage", img, err)
		}
	}
}

// TestHashGolden pins the hash values of the test photographs, so that a
// change of implementation or of the goimagehash version cannot silently
// change the bit layout that hashes stored at ingest rely on.
func TestHashGolden(t *testing.T) {
	photos := testkit.Photos(t, photoDir)
	names := make([]string, 0, len(photos))
	for n := range photos {
		names = append(names, n)
	}
	sort.Strings(names)
	got := map[string]uint64{}
	for _, n := range names {
		h, err := Hash(photos[n])
		if err != nil {
			t.Fatal(err)
		}
		got[n] = h
	}
	golden := filepath.Join("testdata", "phash.golden")
	if *update {
		var sb strings.Builder
		for _, n := range names {
			fmt.Fprintf(&sb, "%s\t%016x\n", n, got[n])
		}
		if err := os.WriteFile(golden, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, hex, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("%s: malformed line %q", golden, sc.Text())
		}
		v, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			t.Fatalf("%s: %v", golden, err)
		}
		want[name] = v
	}
	if len(want) != len(got) {
		t.Fatalf("%s has %d entries, want %d photos", golden, len(want), len(got))
	}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("Hash(%s) = %016x, want %016x", n, got[n], w)
		}
	}
}

// TestHashSeparatesPhotos checks that distinct photographs are far apart
// while a re-encoded copy stays close: the property the index relies on.
func TestHashSeparatesPhotos(t *testing.T) {
	photos := testkit.Photos(t, photoDir)
	hashes := map[string]uint64{}
	for n, img := range photos {
		h, _ := Hash(img)
		hashes[n] = h
	}
	for a, ha := range hashes {
		for b, hb := range hashes {
			if a < b && Distance(ha, hb) <= 16 {
				t.Errorf("Distance(%s, %s) = %d, want > 16", a, b, Distance(ha, hb))
			}
		}
	}
}

func TestDistance(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		a, b := r.Uint64(), r.Uint64()
		want := 0
		for i := range 64 {
			if (a>>i)&1 != (b>>i)&1 {
				want++
			}
		}
		if got := Distance(a, b); got != want {
			t.Fatalf("Distance(%x, %x) = %d, want %d", a, b, got, want)
		}
	}
}
