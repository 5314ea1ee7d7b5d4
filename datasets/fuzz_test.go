package datasets

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzListings writes arbitrary bytes as every listing file of the CUB,
// Places365 and ImageNet layouts and reads them: any outcome but a panic
// is fine, and an error must be a *LayoutError or name the split.
func FuzzListings(f *testing.F) {
	f.Add([]byte("1 001.Black_footed_Albatross\n2 002.Laysan_Albatross\n"))
	f.Add([]byte("1 001.Black_footed_Albatross/a.jpg\n2 x/b.jpg\n"))
	f.Add([]byte("1 1\n2 0\n"))
	f.Add([]byte("/a/airfield 0\n/a/airplane_cabin 1\n"))
	f.Add([]byte("/a/airfield/00000001.jpg 0\n"))
	f.Add([]byte("ImageId,PredictionString\nILSVRC2012_val_00000001,n01751748 1 2 3 4\n"))
	f.Add([]byte("n01751748 sea snake\nn01440764 tench\n"))
	f.Add([]byte("65\n970\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		write := func(rel string) {
			p := filepath.Join(dir, rel)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, rel := range []string{cubImages, cubLabels, cubSplit, cubClass, placesCategories, placesTrain, placesVal,
			imagenetSynsetMapping, imagenetSolution, imagenetGroundTruth, imagenetDevkitOrder} {
			write(rel)
		}
		os.MkdirAll(filepath.Join(dir, "val"), 0o755)
		for _, layout := range []string{CUB, Places365, ImageNet} {
			d, err := Open(layout, dir, Options{})
			if err == nil {
				for _, split := range []string{SplitTrain, SplitVal} {
					_, err = d.Split(split)
					check(t, layout, err)
				}
				continue
			}
			check(t, layout, err)
		}
	})
}

func check(t *testing.T, layout string, err error) {
	var le *LayoutError
	if err != nil && !errors.As(err, &le) {
		t.Errorf("%s: error %v is not a *LayoutError", layout, err)
	}
}
