package demo

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// thumb is a 16x16 grey thumbnail with zero mean and unit variance, for
// comparing images regardless of brightness.
func thumb(img image.Image) []float64 {
	m := resize(img, 16, 16)
	out := make([]float64, 256)
	var sum, sq float64
	for i := range out {
		p := m.Pix[4*i : 4*i+3]
		out[i] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
		sum += out[i]
	}
	mean := sum / float64(len(out))
	for i := range out {
		out[i] -= mean
		sq += out[i] * out[i]
	}
	sd := math.Sqrt(sq/float64(len(out))) + 1e-9
	for i := range out {
		out[i] /= sd
	}
	return out
}

func dist(a, b []float64) float64 {
	var s float64
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return math.Sqrt(s)
}

// TestPlantedDuplicates checks each planted copy is nearer its recorded
// target image than any other target val image, and the truth agrees.
func TestPlantedDuplicates(t *testing.T) {
	w := quickWorld(t)
	if len(w.Duplicates) != Quick().Duplicates {
		t.Fatalf("got %d duplicates, want %d", len(w.Duplicates), Quick().Duplicates)
	}
	truth, err := w.Truth()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]TruthRecord{}
	for _, r := range truth {
		byID[r.ID] = r
	}
	vals, err := filepath.Glob(filepath.Join(w.Path(w.Target.Val), "*", "*.JPEG"))
	if err != nil || len(vals) == 0 {
		t.Fatalf("glob val: %d files, %v", len(vals), err)
	}
	valThumbs := map[string][]float64{}
	for _, v := range vals {
		img, err := readJPEG(v)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(w.Dir, v)
		valThumbs[rel] = thumb(img)
	}
	kinds := map[string]bool{}
	onDisk := readDuplicatesFile(t, w.Path(DuplicatesFile))
	if len(onDisk) != len(w.Duplicates) {
		t.Errorf("duplicates.jsonl has %d lines, manifest %d", len(onDisk), len(w.Duplicates))
	}
	for i, d := range w.Duplicates {
		if i < len(onDisk) && onDisk[i] != d {
			t.Errorf("duplicates.jsonl line %d = %+v, manifest %+v", i+1, onDisk[i], d)
		}
		kinds[d.Transform] = true
		tr := byID[d.CrawlID]
		if tr.Kind != "duplicate" || tr.Source != d.TargetPath || tr.Transform != d.Transform {
			t.Errorf("%s: truth %+v disagrees with %+v", d.CrawlID, tr, d)
		}
		img, err := readJPEG(w.Path(tr.Image))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(d.Transform, "mirror") {
			img = mirror(img)
		}
		th := thumb(img)
		best, bestD := "", math.Inf(1)
		for p, v := range valThumbs {
			if dd := dist(th, v); dd < bestD {
				best, bestD = p, dd
			}
		}
		if best != d.TargetPath {
			t.Errorf("%s (%s): nearest val image is %s, want %s", d.CrawlID, d.Transform, best, d.TargetPath)
		}
	}
	if len(kinds) < 5 {
		t.Errorf("got %d kinds of transform, want at least 5", len(kinds))
	}
}

func readDuplicatesFile(t *testing.T, path string) []Duplicate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []Duplicate
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var d Duplicate
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		out = append(out, d)
	}
	return out
}

func TestNearDuplicate(t *testing.T) {
	src := renderScene(64, 48, seeded(1, "src"), scene{main: conceptStyle(1, mustConcepts(t)[0]), count: 1})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		transform    string
		sameSize     bool
		smaller      bool // fewer pixels than the source
		wantErr      bool
		fewerBytesLQ bool
	}{
		{transform: "mirror", sameSize: true},
		{transform: "brighten", sameSize: true},
		{transform: "crop", smaller: true},
		{transform: "reencode", sameSize: true, fewerBytesLQ: true},
		{transform: "resize"},
		{transform: "crop+resize"},
		{transform: "sharpen", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.transform, func(t *testing.T) {
			out, err := nearDuplicate(buf.Bytes(), tt.transform, seeded(1, tt.transform))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			img, err := jpeg.Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("decode output: %v", err)
			}
			got, want := img.Bounds().Size(), src.Bounds().Size()
			if tt.sameSize && got != want {
				t.Errorf("size %v, want %v", got, want)
			}
			if tt.smaller && got.X*got.Y >= want.X*want.Y {
				t.Errorf("size %v, want smaller than %v", got, want)
			}
			if tt.fewerBytesLQ && len(out) >= buf.Len() {
				t.Errorf("re-encoded to %d bytes, want fewer than %d", len(out), buf.Len())
			}
			if bytes.Equal(out, buf.Bytes()) {
				t.Errorf("output equals input")
			}
		})
	}
}

func mustConcepts(t *testing.T) []conceptEntry {
	t.Helper()
	cs, err := embeddedConcepts()
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
