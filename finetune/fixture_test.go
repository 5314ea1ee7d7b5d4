package finetune

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

// The fixtures below write small datasets in every layout: K classes whose
// images differ in hue and stripe direction, so a network can learn them.

func wnidOf(c int) string { return fmt.Sprintf("n%08d", 1000+c*37) }

// drawImage draws image i of class c: a stripe pattern whose hue and angle
// depend on the class, with per-image phase, brightness and noise.
func drawImage(c, i, size int) image.Image {
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

func writeJPEG(t testing.TB, path string, img image.Image) {
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

func writeText(t testing.TB, path string, lines ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// spec sizes a fixture dataset.
type spec struct {
	K, Train, Val, Size int
}

func (s spec) each(fn func(split string, c, i int)) {
	for c := range s.K {
		for i := range s.Train {
			fn(SplitTrain, c, i)
		}
		for i := range s.Val {
			fn(SplitVal, c, 1000+i)
		}
	}
}

// labelled records the class every fixture image was drawn from.
type labelled map[string]int32

func (m labelled) put(t testing.TB, path string, c, i, size int) {
	writeJPEG(t, path, drawImage(c, i, size))
	m[path] = int32(c)
}

func makeImageFolder(t testing.TB, dir string, s spec) labelled {
	m := labelled{}
	s.each(func(split string, c, i int) {
		m.put(t, filepath.Join(dir, split, fmt.Sprintf("class%02d", c), fmt.Sprintf("%04d.jpg", i)), c, i, s.Size)
	})
	return m
}

// ImageNet val layouts.
const (
	valFolders     = "folders"
	valSolution    = "solution"
	valGroundTruth = "groundtruth"
)

// makeImageNet writes train/<wnid>/ and val/ in one of the val layouts. The
// devkit class order is the reverse of the sorted order, so a reader that
// ignored synsets.txt would get every label wrong.
func makeImageNet(t testing.TB, dir string, s spec, val string) labelled {
	m := labelled{}
	var solution, truth []string
	solution = append(solution, "ImageId,PredictionString")
	n := 0
	s.each(func(split string, c, i int) {
		if split == SplitTrain {
			m.put(t, filepath.Join(dir, "train", wnidOf(c), fmt.Sprintf("%s_%d.JPEG", wnidOf(c), i)), c, i, s.Size)
			return
		}
		n++
		name := fmt.Sprintf("ILSVRC2012_val_%08d", n)
		switch val {
		case valFolders:
			m.put(t, filepath.Join(dir, "val", wnidOf(c), name+".JPEG"), c, i, s.Size)
		default:
			m.put(t, filepath.Join(dir, "val", name+".JPEG"), c, i, s.Size)
			solution = append(solution, fmt.Sprintf("%s,%s 1 2 30 40 %s 5 6 7 8", name, wnidOf(c), wnidOf(c)))
			truth = append(truth, fmt.Sprint(s.K-c))
		}
	})
	switch val {
	case valSolution:
		writeText(t, filepath.Join(dir, imagenetSolution), solution...)
	case valGroundTruth:
		var order []string
		for c := s.K - 1; c >= 0; c-- {
			order = append(order, wnidOf(c))
		}
		writeText(t, filepath.Join(dir, imagenetDevkitData, imagenetGroundTruth), truth...)
		writeText(t, filepath.Join(dir, imagenetDevkitData, imagenetDevkitOrder), order...)
	}
	return m
}

// makeCUB writes the CUB_200_2011 folder inside dir.
func makeCUB(t testing.TB, dir string, s spec) labelled {
	m := labelled{}
	dir = filepath.Join(dir, "CUB_200_2011")
	var images, labels, split, classes []string
	for c := range s.K {
		classes = append(classes, fmt.Sprintf("%d %03d.Bird_%d", c+1, c+1, c))
	}
	id := 0
	s.each(func(sp string, c, i int) {
		id++
		rel := fmt.Sprintf("%03d.Bird_%d/Bird_%d_%04d.jpg", c+1, c, c, i)
		m.put(t, filepath.Join(dir, cubDir, rel), c, i, s.Size)
		images = append(images, fmt.Sprintf("%d %s", id, rel))
		labels = append(labels, fmt.Sprintf("%d %d", id, c+1))
		flag := 0
		if sp == SplitTrain {
			flag = 1
		}
		split = append(split, fmt.Sprintf("%d %d", id, flag))
	})
	writeText(t, filepath.Join(dir, cubImages), images...)
	writeText(t, filepath.Join(dir, cubLabels), labels...)
	writeText(t, filepath.Join(dir, cubSplit), split...)
	writeText(t, filepath.Join(dir, cubClass), classes...)
	return m
}

func placesCategory(c int) string {
	return fmt.Sprintf("/%c/place_%d", 'a'+rune(c%26), c)
}

func makePlaces(t testing.TB, dir string, s spec) labelled {
	m := labelled{}
	var cats, train, val []string
	for c := range s.K {
		cats = append(cats, fmt.Sprintf("%s %d", placesCategory(c), c))
	}
	n := 0
	s.each(func(sp string, c, i int) {
		if sp == SplitTrain {
			rel := fmt.Sprintf("%s/%08d.jpg", placesCategory(c), i+1)
			m.put(t, filepath.Join(dir, placesTrainDir, rel), c, i, s.Size)
			train = append(train, fmt.Sprintf("%s %d", rel, c))
			return
		}
		n++
		name := fmt.Sprintf("Places365_val_%08d.jpg", n)
		m.put(t, filepath.Join(dir, placesValDir, name), c, i, s.Size)
		val = append(val, fmt.Sprintf("%s %d", name, c))
	})
	writeText(t, filepath.Join(dir, placesCategories), cats...)
	writeText(t, filepath.Join(dir, placesTrain), train...)
	writeText(t, filepath.Join(dir, placesVal), val...)
	return m
}

// makeTask writes a dataset of task into dir and returns the directory to
// pass as --data.
func makeTask(t testing.TB, task, dir string, s spec) labelled {
	switch task {
	case TaskImageNet:
		return makeImageNet(t, dir, s, valSolution)
	case TaskCUB:
		return makeCUB(t, dir, s)
	case TaskPlaces365:
		return makePlaces(t, dir, s)
	case TaskImageFolder:
		return makeImageFolder(t, dir, s)
	}
	t.Fatalf("no fixture for task %q", task)
	return nil
}
