// Package datasetstest writes small datasets in every layout package
// datasets reads, for the tests of packages that use datasets (as
// net/http/httptest serves the tests of HTTP clients). The images of K
// classes differ in hue and stripe direction, so a network can learn them.
//
// It writes the files the real distributions have, named as they name
// them, without using package datasets, so a test that reads a fixture
// checks the reader against the layout rather than against itself.
package datasetstest

import (
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Spec sizes a fixture dataset: K classes of Train training and Val
// validation images of Size×Size pixels each.
type Spec struct {
	K, Train, Val, Size int
}

// Each calls fn for every image: its split ("train" or "val"), class and
// index (validation images count from 1000, so they differ from the
// training images of their class).
func (s Spec) Each(fn func(split string, c, i int)) {
	for c := range s.K {
		for i := range s.Train {
			fn("train", c, i)
		}
		for i := range s.Val {
			fn("val", c, 1000+i)
		}
	}
}

// Labelled is the class of every image file a fixture wrote, by path.
type Labelled map[string]int32

func (m Labelled) put(t testing.TB, path string, c, i, size int) {
	WriteJPEG(t, path, Draw(c, i, size))
	m[path] = int32(c)
}

// WNID is the WordNet-style id of class c in the ImageNet fixture.
func WNID(c int) string { return fmt.Sprintf("n%08d", 1000+c*37) }

// Draw draws image i of class c: a stripe pattern whose hue and angle
// depend on the class, with per-image phase, brightness and noise.
func Draw(c, i, size int) image.Image {
	r := rand.New(rand.NewPCG(uint64(c)*7919+1, uint64(i)+3))
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	hue := float64(c) * 2 * math.Pi / 7
	angle := float64(c%4) * math.Pi / 4
	phase := r.Float64() * 2 * math.Pi
	freq := 0.35 + 0.1*float64(c%3)
	br := 0.7 + 0.3*r.Float64()
	for y := range size {
		for x := range size {
			s := 0.5 + 0.5*math.Sin(freq*(float64(x)*math.Cos(angle)+float64(y)*math.Sin(angle))+phase)
			v := func(off float64) uint8 {
				f := br * (0.5 + 0.5*math.Cos(hue+off)) * (0.4 + 0.6*s)
				f += (r.Float64() - 0.5) * 0.15
				return uint8(math.Max(0, math.Min(255, f*255)))
			}
			img.Set(x, y, color.RGBA{v(0), v(2.1), v(4.2), 255})
		}
	}
	return img
}

// WriteJPEG writes img to path (quality 90), creating its folder.
func WriteJPEG(t testing.TB, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// WriteText writes lines to path, one per line, creating its folder.
func WriteText(t testing.TB, path string, lines ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ImageFolder writes dir/{train,val}/classNN/NNNN.jpg.
func ImageFolder(t testing.TB, dir string, s Spec) Labelled {
	m := Labelled{}
	s.Each(func(split string, c, i int) {
		m.put(t, filepath.Join(dir, split, fmt.Sprintf("class%02d", c), fmt.Sprintf("%04d.jpg", i)), c, i, s.Size)
	})
	return m
}

// ImageNet validation layouts.
const (
	ValFolders     = "folders"     // val/<wnid>/*.JPEG
	ValSolution    = "solution"    // flat val/ with LOC_val_solution.csv
	ValGroundTruth = "groundtruth" // flat val/ with the devkit's ground truth and synsets.txt
)

// ImageNet writes train/<wnid>/ and val/ in one of the validation layouts.
// The devkit class order is the reverse of the sorted order, so a reader
// that ignored synsets.txt would get every label wrong.
func ImageNet(t testing.TB, dir string, s Spec, val string) Labelled {
	const devkit = "ILSVRC2012_devkit_t12/data"
	m := Labelled{}
	solution := []string{"ImageId,PredictionString"}
	var truth []string
	n := 0
	s.Each(func(split string, c, i int) {
		if split == "train" {
			m.put(t, filepath.Join(dir, "train", WNID(c), fmt.Sprintf("%s_%d.JPEG", WNID(c), i)), c, i, s.Size)
			return
		}
		n++
		name := fmt.Sprintf("ILSVRC2012_val_%08d", n)
		switch val {
		case ValFolders:
			m.put(t, filepath.Join(dir, "val", WNID(c), name+".JPEG"), c, i, s.Size)
		default:
			m.put(t, filepath.Join(dir, "val", name+".JPEG"), c, i, s.Size)
			solution = append(solution, fmt.Sprintf("%s,%s 1 2 30 40 %s 5 6 7 8", name, WNID(c), WNID(c)))
			truth = append(truth, fmt.Sprint(s.K-c))
		}
	})
	switch val {
	case ValSolution:
		WriteText(t, filepath.Join(dir, "LOC_val_solution.csv"), solution...)
	case ValGroundTruth:
		var order []string
		for c := s.K - 1; c >= 0; c-- {
			order = append(order, WNID(c))
		}
		WriteText(t, filepath.Join(dir, devkit, "ILSVRC2012_validation_ground_truth.txt"), truth...)
		WriteText(t, filepath.Join(dir, devkit, "synsets.txt"), order...)
	}
	return m
}

// CUB writes the CUB_200_2011 folder inside dir.
func CUB(t testing.TB, dir string, s Spec) Labelled {
	m := Labelled{}
	dir = filepath.Join(dir, "CUB_200_2011")
	var images, labels, split, classes []string
	for c := range s.K {
		classes = append(classes, fmt.Sprintf("%d %03d.Bird_%d", c+1, c+1, c))
	}
	id := 0
	s.Each(func(sp string, c, i int) {
		id++
		rel := fmt.Sprintf("%03d.Bird_%d/Bird_%d_%04d.jpg", c+1, c, c, i)
		m.put(t, filepath.Join(dir, "images", rel), c, i, s.Size)
		images = append(images, fmt.Sprintf("%d %s", id, rel))
		labels = append(labels, fmt.Sprintf("%d %d", id, c+1))
		flag := 0
		if sp == "train" {
			flag = 1
		}
		split = append(split, fmt.Sprintf("%d %d", id, flag))
	})
	WriteText(t, filepath.Join(dir, "images.txt"), images...)
	WriteText(t, filepath.Join(dir, "image_class_labels.txt"), labels...)
	WriteText(t, filepath.Join(dir, "train_test_split.txt"), split...)
	WriteText(t, filepath.Join(dir, "classes.txt"), classes...)
	return m
}

// PlacesCategory is the category path of class c in the Places365 fixture.
func PlacesCategory(c int) string {
	return fmt.Sprintf("/%c/place_%d", 'a'+rune(c%26), c)
}

// Places365 writes the Places365-standard listing files, data_256/ and
// val_256/ into dir.
func Places365(t testing.TB, dir string, s Spec) Labelled {
	m := Labelled{}
	var cats, train, val []string
	for c := range s.K {
		cats = append(cats, fmt.Sprintf("%s %d", PlacesCategory(c), c))
	}
	n := 0
	s.Each(func(sp string, c, i int) {
		if sp == "train" {
			rel := fmt.Sprintf("%s/%08d.jpg", PlacesCategory(c), i+1)
			m.put(t, filepath.Join(dir, "data_256", rel), c, i, s.Size)
			train = append(train, fmt.Sprintf("%s %d", rel, c))
			return
		}
		n++
		name := fmt.Sprintf("Places365_val_%08d.jpg", n)
		m.put(t, filepath.Join(dir, "val_256", name), c, i, s.Size)
		val = append(val, fmt.Sprintf("%s %d", name, c))
	})
	WriteText(t, filepath.Join(dir, "categories_places365.txt"), cats...)
	WriteText(t, filepath.Join(dir, "places365_train_standard.txt"), train...)
	WriteText(t, filepath.Join(dir, "places365_val.txt"), val...)
	return m
}

// Write writes a dataset of the named layout ("imagenet" with its flat
// LOC_val_solution.csv validation layout, "cub", "places365",
// "imagefolder") into dir, the directory to open it from.
func Write(t testing.TB, layout, dir string, s Spec) Labelled {
	switch layout {
	case "imagenet":
		return ImageNet(t, dir, s, ValSolution)
	case "cub":
		return CUB(t, dir, s)
	case "places365":
		return Places365(t, dir, s)
	case "imagefolder":
		return ImageFolder(t, dir, s)
	}
	t.Fatalf("no fixture for layout %q", layout)
	return nil
}
