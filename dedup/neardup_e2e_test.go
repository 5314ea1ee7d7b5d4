//go:build e2e

package dedup

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/draw"
)

var neardupOut = flag.String("neardup.out", "", "write the near-duplicate radius table (Markdown) to this file")

// corpusVersion changes whenever the generator or the transformations do,
// so a cached corpus is never reused across them.
const corpusVersion = "neardup-v3"

// benchPhotoDir is where the Debian photograph packages were unpacked.
func benchPhotoDir() string {
	if d := os.Getenv("WEAKSUP_PHOTOS"); d != "" {
		return d
	}
	return "/usr/share/backgrounds"
}

// benchPhotos returns the paths of the photographs listed in
// testdata/benchphotos.txt and a key of their names and sizes.
func benchPhotos(t *testing.T) (paths []string, key string) {
	dir := benchPhotoDir()
	f, err := os.Open(filepath.Join("testdata", "benchphotos.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			paths = append(paths, filepath.Join(dir, line))
		}
	}
	h := sha256.New()
	fmt.Fprintln(h, corpusVersion)
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("stat photograph: %v (install the Debian packages mate-backgrounds, "+
				"lomiri-wallpapers-16.04 and lomiri-wallpapers-20.04, or unpack them with "+
				"apt-get download + dpkg -x and set WEAKSUP_PHOTOS to their usr/share/backgrounds)", err)
		}
		fmt.Fprintln(h, filepath.Base(p), st.Size())
	}
	return paths, hex.EncodeToString(h.Sum(nil))[:16]
}

// decodePhotos decodes photographs, scaled so that the longer side is at
// most 1600 pixels.
func decodePhotos(t *testing.T, paths []string) []image.Image {
	photos := make([]image.Image, len(paths))
	errs := make([]error, len(paths))
	parallel(len(paths), func(i int) {
		r, err := os.Open(paths[i])
		if err != nil {
			errs[i] = err
			return
		}
		defer r.Close()
		img, _, err := image.Decode(r)
		if err != nil {
			errs[i] = fmt.Errorf("decode %s: %w", paths[i], err)
			return
		}
		b := img.Bounds()
		if s := max(b.Dx(), b.Dy()); s > 1600 {
			dst := image.NewRGBA(image.Rect(0, 0, b.Dx()*1600/s, b.Dy()*1600/s))
			draw.BiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
			img = dst
		}
		photos[i] = img
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return photos
}

// TestNearDuplicateBenchmark builds the full benchmark from the Debian
// photographs: 48 test images from each of 26 photographs with 14
// variants each, and 1,700 negatives from each (44,200), each negative
// compared with the test images of the other 25 photographs; it prints
// plain pHash's recall and false positives for radii 0..16 and the
// two-step matcher's for a grid of radii and minimum scores.
//
//	go test -tags e2e -run NearDuplicateBenchmark -v ./dedup/ [-args -neardup.out=table.md]
func TestNearDuplicateBenchmark(t *testing.T) {
	paths, key := benchPhotos(t)
	if len(paths) < 20 {
		t.Fatalf("found %d photographs, want at least 20", len(paths))
	}
	cache := filepath.Join(os.TempDir(), "weaksup-dedup-"+key+".json")
	var c corpus
	if b, err := os.ReadFile(cache); err == nil && json.Unmarshal(b, &c) == nil && len(c.Negatives) > 0 {
		t.Logf("corpus from cache %s", cache)
	} else {
		spec := corpusSpec{photos: decodePhotos(t, paths), perTest: 48, perNeg: 1700, testSize: 400, negSize: 256, seed: 2018}
		c = buildCorpus(spec)
		if b, err := json.Marshal(c); err == nil {
			if err := os.WriteFile(cache, b, 0o644); err != nil {
				t.Logf("cache corpus: %v", err)
			}
		}
	}
	if len(c.Negatives) < 40_000 {
		t.Fatalf("corpus has %d negatives, want at least 40,000", len(c.Negatives))
	}
	tab := measure(c, 16)
	def := DefaultConfig()
	mt := measureMatcher(c, settingsGrid([]int{8, 10, 12}, []float64{0.75, 0.8, 0.85, 0.9}, []float64{5, 6, 8, 10}))
	md := tab.Markdown() + "\n" + mt.Markdown()
	t.Logf("\n%s", md)
	if *neardupOut != "" {
		if err := os.WriteFile(*neardupOut, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k := slices.Index(mt.Settings, setting{def.Radius, def.MinScore, def.MaxChroma})
	if k < 0 {
		t.Fatalf("the defaults (radius %d, minimum score %.2f, chroma %g) are not in the grid", def.Radius, def.MinScore, def.MaxChroma)
	}
	all := 0.0
	for _, rec := range mt.Recall {
		all += rec[k]
	}
	if all /= float64(len(mt.Recall)); all < 0.95 {
		t.Errorf("matcher at the defaults: mean recall %.3f, want >= 0.95", all)
	}
	for _, v := range []string{"crop-10%", "rotate-2deg"} {
		if rec := mt.Recall[v][k]; rec < 0.9 {
			t.Errorf("matcher at the defaults: recall of %s %.3f, want >= 0.9", v, rec)
		}
	}
	if fpr := projectedFPR(mt.PairRate[k], mt.ImageFPRs); fpr > 0.003 {
		t.Errorf("matcher at the defaults: FPR@100k %.4f, want <= 0.003", fpr)
	}
}

// settingsGrid is every radius, minimum score and chroma limit the
// benchmark tries.
func settingsGrid(radii []int, scores, chromas []float64) []setting {
	var out []setting
	for _, r := range radii {
		for _, s := range scores {
			for _, c := range chromas {
				out = append(out, setting{r, s, c})
			}
		}
	}
	return out
}
