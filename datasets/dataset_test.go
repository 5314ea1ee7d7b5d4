package datasets

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/datasets/datasetstest"
)

var small = datasetstest.Spec{K: 3, Train: 4, Val: 2, Size: 16}

func TestLayoutsListEveryImageWithItsClass(t *testing.T) {
	cases := []struct {
		name, task, val string
	}{
		{"imagefolder", ImageFolder, ""},
		{"imagenet/val=folders", ImageNet, datasetstest.ValFolders},
		{"imagenet/val=solution", ImageNet, datasetstest.ValSolution},
		{"imagenet/val=groundtruth", ImageNet, datasetstest.ValGroundTruth},
		{"cub", CUB, ""},
		{"places365", Places365, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var want datasetstest.Labelled
			if tc.task == ImageNet {
				want = datasetstest.ImageNet(t, dir, small, tc.val)
			} else {
				want = datasetstest.Write(t, tc.task, dir, small)
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
				sp, err := d.Split(split)
				if err != nil {
					t.Fatalf("split %s: %v", split, err)
				}
				items, ok := sp.(Files)
				if !ok {
					t.Fatalf("split %s is a %T, want Files", split, sp)
				}
				per := small.Train
				if split == SplitVal {
					per = small.Val
				}
				for c, n := range classCounts(items, small.K) {
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
	datasetstest.Places365(t, dir, small)
	d, err := OpenPlaces365(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, want := d.Classes()[1], Class{ID: "/b/place_1", Name: "place_1"}
	if got != want {
		t.Errorf("places class 1: got %+v, want %+v", got, want)
	}
	dir = t.TempDir()
	datasetstest.CUB(t, dir, small)
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
	datasetstest.WriteText(t, path, ls...)
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
		{"imagefolder/no train", ImageFolder, "", func(t *testing.T, d string) { remove(t, filepath.Join(d, "train")) }, "", "train", 0},
		{"imagefolder/empty class", ImageFolder, "", func(t *testing.T, d string) {
			remove(t, filepath.Join(d, "train/class01"))
			os.MkdirAll(filepath.Join(d, "train/class01"), 0o755)
		}, SplitTrain, "train/class01", 0},
		{"imagefolder/unknown val class", ImageFolder, "", func(t *testing.T, d string) {
			os.Rename(filepath.Join(d, "val/class02"), filepath.Join(d, "val/class09"))
		}, SplitVal, "val/class09", 0},
		{"imagefolder/no val", ImageFolder, "", func(t *testing.T, d string) { remove(t, filepath.Join(d, "val")) }, SplitVal, "val", 0},

		{"imagenet/folder not a wnid", ImageNet, datasetstest.ValFolders, func(t *testing.T, d string) {
			os.MkdirAll(filepath.Join(d, "train/cats"), 0o755)
		}, "", "train/cats", 0},
		{"imagenet/val folder not a class", ImageNet, datasetstest.ValFolders, func(t *testing.T, d string) {
			os.Rename(filepath.Join(d, "val", datasetstest.WNID(1)), filepath.Join(d, "val/n99999999"))
		}, SplitVal, "val/n99999999", 0},
		{"imagenet/solution unknown wnid", ImageNet, datasetstest.ValSolution, func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, imagenetSolution), 3, "ILSVRC2012_val_00000002,n99999999 1 2 3 4")
		}, SplitVal, imagenetSolution, 3},
		{"imagenet/solution malformed", ImageNet, datasetstest.ValSolution, func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, imagenetSolution), 2, "ILSVRC2012_val_00000001")
		}, SplitVal, imagenetSolution, 2},
		{"imagenet/solution image missing", ImageNet, datasetstest.ValSolution, func(t *testing.T, d string) {
			remove(t, filepath.Join(d, "val/ILSVRC2012_val_00000004.JPEG"))
		}, SplitVal, "val/ILSVRC2012_val_00000004.JPEG", 0},
		{"imagenet/flat val without labels", ImageNet, datasetstest.ValSolution, func(t *testing.T, d string) {
			remove(t, filepath.Join(d, imagenetSolution))
		}, SplitVal, imagenetGroundTruth, 0},
		{"imagenet/ground truth without class order", ImageNet, datasetstest.ValGroundTruth, func(t *testing.T, d string) {
			remove(t, filepath.Join(d, imagenetDevkitData, imagenetDevkitOrder))
		}, SplitVal, imagenetDevkitData + "/" + imagenetDevkitOrder, 0},
		{"imagenet/ground truth label out of range", ImageNet, datasetstest.ValGroundTruth, func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, gt), 5, "4")
		}, SplitVal, gt, 5},
		{"imagenet/class order unknown wnid", ImageNet, datasetstest.ValGroundTruth, func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, imagenetDevkitData, imagenetDevkitOrder), 2, "n77777777")
		}, SplitVal, imagenetDevkitData + "/" + imagenetDevkitOrder, 2},
		{"imagenet/synset mapping repeats a wnid", ImageNet, datasetstest.ValFolders, func(t *testing.T, d string) {
			datasetstest.WriteText(t, filepath.Join(d, imagenetSynsetMapping), datasetstest.WNID(0)+" zero", datasetstest.WNID(0)+" again")
		}, "", imagenetSynsetMapping, 2},

		{"cub/no classes.txt", CUB, "", func(t *testing.T, d string) { remove(t, filepath.Join(d, cub+cubClass)) }, "", cub + cubClass, 0},
		{"cub/class ids out of order", CUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubClass), 2, "7 007.Bird")
		}, "", cub + cubClass, 2},
		{"cub/images.txt malformed", CUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubImages), 4, "4")
		}, "", cub + cubImages, 4},
		{"cub/image id repeated", CUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubImages), 3, "1 001.Bird_0/x.jpg")
		}, "", cub + cubImages, 3},
		{"cub/label for unknown image", CUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubLabels), 2, "999 1")
		}, "", cub + cubLabels, 2},
		{"cub/label with unknown class", CUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubLabels), 6, "6 42")
		}, "", cub + cubLabels, 6},
		{"cub/image without label", CUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubLabels), 1, "")
		}, "", cub + cubLabels, 0},
		{"cub/bad split flag", CUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubSplit), 3, "3 2")
		}, "", cub + cubSplit, 3},
		{"cub/image without split flag", CUB, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, cub+cubSplit), 7, "")
		}, "", cub + cubSplit, 0},
		{"cub/image file missing", CUB, "", func(t *testing.T, d string) {
			remove(t, filepath.Join(d, cub+"images/002.Bird_1/Bird_1_0003.jpg"))
		}, SplitTrain, cub + "images/002.Bird_1/Bird_1_0003.jpg", 0},

		{"places/no categories", Places365, "", func(t *testing.T, d string) { remove(t, filepath.Join(d, placesCategories)) }, "", placesCategories, 0},
		{"places/categories out of order", Places365, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, placesCategories), 2, "/b/place_1 5")
		}, "", placesCategories, 2},
		{"places/train label out of range", Places365, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, placesTrain), 3, "/a/place_0/00000003.jpg 3")
		}, SplitTrain, placesTrain, 3},
		{"places/train path under another category", Places365, "", func(t *testing.T, d string) {
			editLine(t, filepath.Join(d, placesTrain), 2, "/a/place_0/00000002.jpg 1")
		}, SplitTrain, placesTrain, 2},
		{"places/val image missing", Places365, "", func(t *testing.T, d string) {
			remove(t, filepath.Join(d, placesValDir, "Places365_val_00000003.jpg"))
		}, SplitVal, placesValDir + "/Places365_val_00000003.jpg", 0},
		{"places/no val list", Places365, "", func(t *testing.T, d string) { remove(t, filepath.Join(d, placesVal)) }, SplitVal, placesVal, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.task == ImageNet {
				datasetstest.ImageNet(t, dir, small, tc.val)
			} else {
				datasetstest.Write(t, tc.task, dir, small)
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
	if _, err := Open("coco", t.TempDir(), Options{}); !errors.Is(err, ErrUnknownLayout) {
		t.Errorf("open coco: got %v, want ErrUnknownLayout", err)
	}
	dir := t.TempDir()
	datasetstest.ImageFolder(t, dir, small)
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
		datasetstest.WriteJPEG(t, filepath.Join(dir, "train", wnid, "a.JPEG"), datasetstest.Draw(0, 0, 8))
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
	datasetstest.WriteText(t, filepath.Join(dir, imagenetSynsetMapping), "n02084071 dog, domestic dog", "n01440764 tench, Tinca tinca", "n00000042 unknown")
	d, err = OpenImageNet(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Classes()[0], (Class{"n02084071", "dog, domestic dog"}); got != want {
		t.Errorf("with %s, class 0: got %+v, want %+v", imagenetSynsetMapping, got, want)
	}
}

// classCounts returns how many images of s each of k classes has.
func classCounts(s Split, k int) []int {
	c := make([]int, k)
	for i := range s.Len() {
		if cl := s.Class(i); cl >= 0 && int(cl) < k {
			c[cl]++
		}
	}
	return c
}
