package finetune

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var small = spec{K: 3, Train: 4, Val: 2, Size: 16}

func TestLayoutsListEveryImageWithItsClass(t *testing.T) {
	cases := []struct {
		name, task, val string
	}{
		{"imagefolder", TaskImageFolder, ""},
		{"imagenet/val=folders", TaskImageNet, valFolders},
		{"imagenet/val=solution", TaskImageNet, valSolution},
		{"imagenet/val=groundtruth", TaskImageNet, valGroundTruth},
		{"cub", TaskCUB, ""},
		{"places365", TaskPlaces365, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var want labelled
			if tc.task == TaskImageNet {
				want = makeImageNet(t, dir, small, tc.val)
			} else {
				want = makeTask(t, tc.task, dir, small)
			}
			d, err := Open(tc.task, dir, Options{})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if got := len(d.Classes()); got != small.K {
				t.Fatalf("classes: got %d, want %d", got, small.K)
			}
			seen := 0
			for _, split := range []string{SplitTrain, SplitVal} {
				items, err := d.Split(split)
				if err != nil {
					t.Fatalf("split %s: %v", split, err)
				}
				per := small.Train
				if split == SplitVal {
					per = small.Val
				}
				for c, n := range ClassCounts(items, small.K) {
					if n != per {
						t.Errorf("%s class %d: got %d images, want %d", split, c, n, per)
					}
				}
				for _, it := range items {
					c, ok := want[it.Path]
					if !ok {
						t.Fatalf("%s item %s was not written by the fixture", split, it.Path)
					}
					if it.Class != c {
						t.Errorf("%s item %s: got class %d, want %d", split, it.Path, it.Class, c)
					}
					seen++
				}
			}
			if seen != len(want) {
				t.Errorf("listed %d images, fixture wrote %d", seen, len(want))
			}
		})
	}
}

func TestClassNamesAndIDs(t *testing.T) {
	dir := t.TempDir()
	makePlaces(t, dir, small)
	d, err := OpenPlaces365(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, want := d.Classes()[1], Class{ID: "/b/place_1", Name: "place_1"}
	if got != want {
		t.Errorf("places class 1: got %+v, want %+v", got, want)
	}
	dir = t.TempDir()
	makeCUB(t, dir, small)
	c, err := OpenCUB(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Classes()[2], (Class{ID: "3", Name: "003.Bird_2"}); got != want {
		t.Errorf("cub class 3: got %+v, want %+v", got, want)
	}
	if c.Dir() != filepath.Join(dir, "CUB_200_2011") {
		t.Errorf("cub dir: got %s, want the CUB_200_2011 folder inside %s", c.Dir(), dir)
	}
}

// editLine replaces line n (1-based) of a text file; text "" deletes it.
func editLine(t *testing.T, path string, n int, text string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if text == "" {
		ls = append(ls[:n-1], ls[n:]...)
	} else {
		ls[n-1] = text
	}
	writeText(t, path, ls...)
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

func TestLayoutErrorsNameTheFile(t *testing.T) {
	const (
		cub = "CUB_200_2011/"
		gt  = imagenetDevkitData + "/" + imagenetGroundTruth
	)
	cases := []struct {
		name, task, val string
		mutate          func(t *testing.T, dir string)
		split           string // "" when Open itself must fail
		wantPath        string // relative to the dataset folder
		wantLine        int
	}{
		{"imagefolder/no train", TaskImageFolder, "", func(t *testing.T, d string) { remove(t, filepath.Join(d, "train")) }, "", "train", 0},
		{"imagefolder/empty class", TaskImageFolder, "", func(t *testing.T, d string) {
			remove(t, filepath.Join(d, "train/class01"))
			os.MkdirAll(filepath.Join(d, "train/class01"), 0o755)
		}, SplitTrain, "train/class01", 0},
		{"imagefolder/unknown val class", TaskImageFolder, "", func(t *testing.T, d string) {
			os.Rename(filepath.Join(d, "val/class02"), filepath.Join(d, "val/class09"))
		}, SplitVal, "val/class09", 0},
		{"imagefolder/no val", TaskImageFolder, "", func(t *testing.T, d string) { remove(t, filepath.Join(d, "val")) }, SplitVal, "val", 0},

		{"imagenet/folder not a wnid", TaskImageNet, valFolders, func(t *testing.T, d string) {
			os.MkdirAll(filepath.Join(d, "train/cats"), 0o755)
		}, "", "train/cats", 0},
		{"imagenet/val folder not a class", TaskImageNet, valFolders, func(t *testing.T, d string) {
			os.Rename(filepath.Join(d, "val", wnidOf(1)), filepath.Join(d, "val/n99999999"))
		}, SplitVal, "val/n99999999", 0},
		{"imagenet/solution unknown wnid", TaskImageNet, valSolution, func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, imagenetSolution), 3, "ILSVRC2012_val_00000002,n99999999 1 2 3 4")
		}, SplitVal, imagenetSolution, 3},
		{"imagenet/solution malformed", TaskImageNet, valSolution, func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, imagenetSolution), 2, "ILSVRC2012_val_00000001")
		}, SplitVal, imagenetSolution, 2},
		{"imagenet/solution image missing", TaskImageNet, valSolution, func(t *testing.T, d string) {
			remove(t, filepath.Join(d, "val/ILSVRC2012_val_00000004.JPEG"))
		}, SplitVal, "val/ILSVRC2012_val_00000004.JPEG", 0},
		{"imagenet/flat val without labels", TaskImageNet, valSolution, func(t *testing.T, d string) {
			remove(t, filepath.Join(d, imagenetSolution))
		}, SplitVal, imagenetGroundTruth, 0},
		{"imagenet/ground truth without class order", TaskImageNet, valGroundTruth, func(t *testing.T, d string) {
			remove(t, filepath.Join(d, imagenetDevkitData, imagenetDevkitOrder))
		}, SplitVal, imagenetDevkitData + "/" + imagenetDevkitOrder, 0},
		{"imagenet/ground truth label out of range", TaskImageNet, valGroundTruth, func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, gt), 5, "4")
		}, SplitVal, gt, 5},
		{"imagenet/class order unknown wnid", TaskImageNet, valGroundTruth, func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, imagenetDevkitData, imagenetDevkitOrder), 2, "n77777777")
		}, SplitVal, imagenetDevkitData + "/" + imagenetDevkitOrder, 2},
		{"imagenet/synset mapping repeats a wnid", TaskImageNet, valFolders, func(t *testing.T, d string) {
			writeText(t, filepath.Join(d, imagenetSynsetMapping), wnidOf(0)+" zero", wnidOf(0)+" again")
		}, "", imagenetSynsetMapping, 2},

		{"cub/no classes.txt", TaskCUB, "", func(t *testing.T, d string) { remove(t, filepath.Join(d, cub+cubClass)) }, "", cub + cubClass, 0},
		{"cub/class ids out of order", TaskCUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubClass), 2, "7 007.Bird")
		}, "", cub + cubClass, 2},
		{"cub/images.txt malformed", TaskCUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubImages), 4, "4")
		}, "", cub + cubImages, 4},
		{"cub/image id repeated", TaskCUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubImages), 3, "1 001.Bird_0/x.jpg")
		}, "", cub + cubImages, 3},
		{"cub/label for unknown image", TaskCUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubLabels), 2, "999 1")
		}, "", cub + cubLabels, 2},
		{"cub/label with unknown class", TaskCUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubLabels), 6, "6 42")
		}, "", cub + cubLabels, 6},
		{"cub/image without label", TaskCUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubLabels), 1, "")
		}, "", cub + cubLabels, 0},
		{"cub/bad split flag", TaskCUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubSplit), 3, "3 2")
		}, "", cub + cubSplit, 3},
		{"cub/image without split flag", TaskCUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubSplit), 7, "")
		}, "", cub + cubSplit, 0},
		{"cub/image file missing", TaskCUB, "", func(t *testing.T, d string) {
			remove(t, filepath.Join(d, cub+"images/002.Bird_1/Bird_1_0003.jpg"))
		}, SplitTrain, cub + "images/002.Bird_1/Bird_1_0003.jpg", 0},

		{"places/no categories", TaskPlaces365, "", func(t *testing.T, d string) { remove(t, filepath.Join(d, placesCategories)) }, "", placesCategories, 0},
		{"places/categories out of order", TaskPlaces365, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, placesCategories), 2, "/b/place_1 5")
		}, "", placesCategories, 2},
		{"places/train label out of range", TaskPlaces365, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, placesTrain), 3, "/a/place_0/00000003.jpg 3")
		}, SplitTrain, placesTrain, 3},
		{"places/train path under another category", TaskPlaces365, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, placesTrain), 2, "/a/place_0/00000002.jpg 1")
		}, SplitTrain, placesTrain, 2},
		{"places/val image missing", TaskPlaces365, "", func(t *testing.T, d string) {
			remove(t, filepath.Join(d, placesValDir, "Places365_val_00000003.jpg"))
		}, SplitVal, placesValDir + "/Places365_val_00000003.jpg", 0},
		{"places/no val list", TaskPlaces365, "", func(t *testing.T, d string) { remove(t, filepath.Join(d, placesVal)) }, SplitVal, placesVal, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.task == TaskImageNet {
				makeImageNet(t, dir, small, tc.val)
			} else {
				makeTask(t, tc.task, dir, small)
			}
			tc.mutate(t, dir)
			d, err := Open(tc.task, dir, Options{})
			if err == nil && tc.split != "" {
				_, err = d.Split(tc.split)
			} else if err == nil {
				t.Fatalf("open: got no error, want one naming %s", tc.wantPath)
			} else if tc.split != "" {
				t.Fatalf("open: %v (want it to fail only at split %s)", err, tc.split)
			}
			var le *LayoutError
			if !errors.As(err, &le) {
				t.Fatalf("got error %v, want a *LayoutError naming %s", err, tc.wantPath)
			}
			want := filepath.Join(dir, tc.wantPath)
			if le.Path != want || le.Line != tc.wantLine {
				t.Errorf("got error at %s:%d, want %s:%d (%v)", le.Path, le.Line, want, tc.wantLine, err)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not name %s", err, want)
			}
		})
	}
}

func TestOpenUnknownTaskAndSplit(t *testing.T) {
	if _, err := Open("coco", t.TempDir(), Options{}); !errors.Is(err, ErrUnknownTask) {
		t.Errorf("open coco: got %v, want ErrUnknownTask", err)
	}
	dir := t.TempDir()
	makeImageFolder(t, dir, small)
	d, err := OpenImageFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Split("test"); !errors.Is(err, ErrUnknownSplit) {
		t.Errorf("split test: got %v, want ErrUnknownSplit", err)
	}
}

func TestImageNetClassNames(t *testing.T) {
	dir := t.TempDir()
	for _, wnid := range []string{"n01440764", "n02084071", "n00000042"} {
		writeJPEG(t, filepath.Join(dir, "train", wnid, "a.JPEG"), drawImage(0, 0, 8))
	}
	d, err := OpenImageNet(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Class{{"n00000042", "n00000042"}, {"n01440764", "tench"}, {"n02084071", "dog"}}
	for i, c := range d.Classes() {
		if c != want[i] {
			t.Errorf("class %d: got %+v, want %+v", i, c, want[i])
		}
	}
	writeText(t, filepath.Join(dir, imagenetSynsetMapping), "n02084071 dog, domestic dog", "n01440764 tench, Tinca tinca", "n00000042 unknown")
	d, err = OpenImageNet(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Classes()[0], (Class{"n02084071", "dog, domestic dog"}); got != want {
		t.Errorf("with %s, class 0: got %+v, want %+v", imagenetSynsetMapping, got, want)
	}
}
