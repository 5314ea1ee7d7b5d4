package datasets

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/datasets/datasetstest"
)

// TestCIFARReadsFixture reads CIFAR files that datasetstest wrote byte by
// byte, without this package: every record with its class, and the pixels
// of the first.
func TestCIFARReadsFixture(t *testing.T) {
	spec := datasetstest.Spec{K: 3, Train: 7, Val: 2}
	for _, tc := range []struct {
		layout, labels string
		classes        int
		coarse         bool
	}{{CIFAR10, "", 10, false}, {CIFAR100, "", 100, false}, {CIFAR100, CIFAR100CoarseLabels, 20, true}} {
		t.Run(tc.layout+"/"+tc.labels, func(t *testing.T) {
			dir := t.TempDir()
			want := datasetstest.Write(t, tc.layout, dir, spec)
			for _, from := range []string{dir, filepath.Join(dir, map[string]string{CIFAR10: CIFAR10Folder, CIFAR100: CIFAR100Folder}[tc.layout])} {
				d, err := Open(tc.layout, from, Options{CIFAR100Labels: tc.labels})
				if err != nil {
					t.Fatal(err)
				}
				if got := len(d.Classes()); got != tc.classes {
					t.Errorf("%d classes, want %d", got, tc.classes)
				}
				seen := 0
				for _, split := range []string{SplitTrain, SplitVal} {
					sp, err := d.Split(split)
					if err != nil {
						t.Fatal(err)
					}
					for i := range sp.Len() {
						c, ok := want[sp.Where(i)]
						if !ok {
							t.Fatalf("%s image %d is %q, not written by the fixture", split, i, sp.Where(i))
						}
						if tc.coarse {
							c %= 20
						}
						if sp.Class(i) != c {
							t.Errorf("%s: class %d, want %d", sp.Where(i), sp.Class(i), c)
						}
						seen++
					}
				}
				if seen != len(want) {
					t.Errorf("read %d images, the fixture wrote %d", seen, len(want))
				}
				tr, _ := d.Split(SplitTrain)
				img, err := tr.Read(0, nil)
				if err != nil {
					t.Fatal(err)
				}
				ref := datasetstest.Draw(0, 0, 32)
				for _, p := range [][2]int{{0, 0}, {31, 0}, {5, 17}, {31, 31}} {
					r, g, b, _ := ref.At(p[0], p[1]).RGBA()
					wantC := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}
					if got := img.Pixels.At(p[0], p[1]); got != wantC {
						t.Errorf("%s pixel %v: %v, want %v", tr.Where(0), p, got, wantC)
					}
				}
			}
		})
	}
}

func randomRecords(r *rand.Rand, n, classes int) []CIFARRecord {
	recs := make([]CIFARRecord, n)
	for i := range recs {
		recs[i].Label = uint8(r.IntN(classes))
		recs[i].Coarse = uint8(r.IntN(20))
		for j := range recs[i].Pixels {
			recs[i].Pixels[j] = uint8(r.IntN(256))
		}
	}
	return recs
}

func names(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, prefix+string(rune('a'+i%26))+strings.Repeat("x", i/26))
	}
	return out
}

// TestCIFARRoundTrip writes both layouts with WriteCIFAR10/100 and reads
// every record back, labels and pixels.
func TestCIFARRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	train, test := randomRecords(r, 23, 10), randomRecords(r, 6, 10)
	root, err := WriteCIFAR10(dir, names("c", 10), train, test)
	if err != nil {
		t.Fatal(err)
	}
	// 23 records over 5 batches: 5, 5, 5, 4, 4.
	for i, want := range []int{5, 5, 5, 4, 4} {
		st, err := os.Stat(filepath.Join(root, CIFAR10Batch(i+1)))
		if err != nil || st.Size() != int64(want*3073) {
			t.Errorf("batch %d: %v bytes (%v), want %d records", i+1, st.Size(), err, want)
		}
	}
	check := func(d Dataset, split string, recs []CIFARRecord, label func(CIFARRecord) uint8) {
		t.Helper()
		sp, err := d.Split(split)
		if err != nil {
			t.Fatal(err)
		}
		if sp.Len() != len(recs) {
			t.Fatalf("%s: %d images, wrote %d", split, sp.Len(), len(recs))
		}
		for i, rec := range recs {
			img, err := sp.Read(i, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, ok := img.Pixels.(*PlanarRGB)
			if !ok || !bytes.Equal(p.Pix, rec.Pixels[:]) || p.W != 32 || p.H != 32 {
				t.Errorf("%s: pixels differ from what was written", sp.Where(i))
			}
			if sp.Class(i) != int32(label(rec)) {
				t.Errorf("%s: class %d, wrote %d", sp.Where(i), sp.Class(i), label(rec))
			}
		}
	}
	d, err := OpenCIFAR10(dir)
	if err != nil {
		t.Fatal(err)
	}
	fine := func(r CIFARRecord) uint8 { return r.Label }
	check(d, SplitTrain, train, fine)
	check(d, SplitVal, test, fine)

	train100, test100 := randomRecords(r, 9, 100), randomRecords(r, 4, 100)
	if _, err := writeCIFAR100(dir, names("f", 100), names("k", 20), train100, test100); err != nil {
		t.Fatal(err)
	}
	d100, err := OpenCIFAR100(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	check(d100, SplitTrain, train100, fine)
	check(d100, SplitVal, test100, fine)
	coarse, err := OpenCIFAR100(dir, CIFAR100CoarseLabels)
	if err != nil {
		t.Fatal(err)
	}
	check(coarse, SplitTrain, train100, func(r CIFARRecord) uint8 { return r.Coarse })
	if coarse.Classes()[0].ID != "ka" || d100.Classes()[99].ID != "fvxxx" {
		t.Errorf("class names %v / %v", coarse.Classes()[0], d100.Classes()[99])
	}

	// The fingerprint changes with a batch file.
	sp, _ := d.Split(SplitTrain)
	var before, after bytes.Buffer
	if err := sp.Fingerprint(&before); err != nil {
		t.Fatal(err)
	}
	train[22].Label = (train[22].Label + 1) % 10
	train = append(train, train[0])
	if _, err := WriteCIFAR10(dir, names("c", 10), train, test); err != nil {
		t.Fatal(err)
	}
	sp2, _ := d.Split(SplitTrain)
	if err := sp2.Fingerprint(&after); err != nil {
		t.Fatal(err)
	}
	if before.String() == after.String() {
		t.Errorf("fingerprint unchanged after rewriting the batches")
	}
}

// TestCIFARErrorsNameFileAndRecord damages CIFAR files and checks that
// each error names the file and, for a bad record, its number.
func TestCIFARErrorsNameFileAndRecord(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	write := func(t *testing.T) string {
		dir := t.TempDir()
		if _, err := WriteCIFAR10(dir, names("c", 10), randomRecords(r, 10, 10), randomRecords(r, 3, 10)); err != nil {
			t.Fatal(err)
		}
		if _, err := writeCIFAR100(dir, names("f", 100), names("k", 20), randomRecords(r, 4, 100), randomRecords(r, 2, 100)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		name   string
		layout string
		damage func(root string) // root: the batch folder
		open   bool              // the error comes from Open, not Split
		want   []string
	}{
		{"truncated", CIFAR10, func(root string) {
			f := filepath.Join(root, CIFAR10Batch(2))
			data, _ := os.ReadFile(f)
			os.WriteFile(f, data[:len(data)-100], 0o644)
		}, false, []string{"data_batch_2.bin", "record 2 is truncated"}},
		{"label", CIFAR10, func(root string) {
			f := filepath.Join(root, CIFAR10Batch(3))
			data, _ := os.ReadFile(f)
			data[3073] = 10
			os.WriteFile(f, data, 0o644)
		}, false, []string{"data_batch_3.bin", "record 2: label 10 outside [0,10)"}},
		{"coarse", CIFAR100, func(root string) {
			f := filepath.Join(root, CIFAR100Train)
			data, _ := os.ReadFile(f)
			data[2*3074] = 20
			os.WriteFile(f, data, 0o644)
		}, false, []string{"train.bin", "record 3: coarse label 20"}},
		{"missing batch", CIFAR10, func(root string) { os.Remove(filepath.Join(root, CIFAR10Batch(5))) }, true, []string{"data_batch_5.bin", "missing"}},
		{"missing meta", CIFAR10, func(root string) { os.Remove(filepath.Join(root, CIFAR10Meta)) }, true, []string{"batches.meta.txt"}},
		{"names", CIFAR100, func(root string) {
			os.WriteFile(filepath.Join(root, CIFAR100Fine), []byte("a\nb\n"), 0o644)
		}, true, []string{"fine_label_names.txt", "2 class names, want 100"}},
		{"empty", CIFAR10, func(root string) { os.WriteFile(filepath.Join(root, CIFAR10Batch(1)), nil, 0o644) }, false, []string{"data_batch_1.bin", "no images"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(t)
			folder := CIFAR10Folder
			if tc.layout == CIFAR100 {
				folder = CIFAR100Folder
			}
			tc.damage(filepath.Join(dir, folder))
			d, err := Open(tc.layout, dir, Options{})
			if err == nil {
				if tc.open {
					t.Fatalf("open: no error")
				}
				_, err = d.Split(SplitTrain)
			}
			if err == nil {
				t.Fatal("no error")
			}
			var le *LayoutError
			if !errors.As(err, &le) {
				t.Errorf("error %v is a %T, want *LayoutError", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if _, err := OpenCIFAR100(write(t), "medium"); err == nil || !strings.Contains(err.Error(), "medium") {
		t.Errorf("unknown label set: %v", err)
	}
}

func TestPlanarRGB(t *testing.T) {
	src := datasetstest.Draw(2, 5, 7)
	p := planarFromImage(src)
	for y := range 7 {
		for x := range 7 {
			r, g, b, _ := src.At(x, y).RGBA()
			if got, want := p.At(x, y), (color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}); got != want {
				t.Fatalf("(%d,%d): %v, want %v", x, y, got, want)
			}
		}
	}
	if got := p.Plane(1)[3*7+4]; got != p.At(4, 3).(color.RGBA).G {
		t.Errorf("green plane disagrees with At")
	}
}

// writeCIFAR100 writes records in CIFAR-100's binary layout into
// dir/cifar-100-binary and returns that folder: train.bin, test.bin,
// fine_label_names.txt and coarse_label_names.txt.
func writeCIFAR100(dir string, fine, coarse []string, train, test []CIFARRecord) (string, error) {
	if len(fine) != cifar100Fine || len(coarse) != cifar100Coarse {
		return "", fmt.Errorf("write cifar100: %d fine and %d coarse names, want %d and %d", len(fine), len(coarse), cifar100Fine, cifar100Coarse)
	}
	root := filepath.Join(dir, CIFAR100Folder)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("write cifar100: %w", err)
	}
	if err := writeCIFARBatch(filepath.Join(root, CIFAR100Train), train, true); err != nil {
		return "", err
	}
	if err := writeCIFARBatch(filepath.Join(root, CIFAR100Test), test, true); err != nil {
		return "", err
	}
	if err := writeNames(filepath.Join(root, CIFAR100Fine), fine); err != nil {
		return "", err
	}
	return root, writeNames(filepath.Join(root, CIFAR100Coarse), coarse)
}

// planarFromImage copies any image into a PlanarRGB (alpha dropped).
func planarFromImage(img image.Image) *PlanarRGB {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	p := &PlanarRGB{Pix: make([]uint8, 3*w*h), W: w, H: h}
	n := w * h
	for y := range h {
		for x := range w {
			c := color.RGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
			i := y*w + x
			p.Pix[i], p.Pix[n+i], p.Pix[2*n+i] = c.R, c.G, c.B
		}
	}
	return p
}
