package finetune

import (
	"path/filepath"
	"strconv"
	"strings"
)

// Places365-standard file names.
const (
	placesCategories = "categories_places365.txt"
	placesTrain      = "places365_train_standard.txt"
	placesVal        = "places365_val.txt"
	placesTrainDir   = "data_256"
	placesValDir     = "val_256"
)

// Places365Dataset is Places365-standard as distributed (the small-image
// version): categories_places365.txt ("/a/airfield 0", labels 0..K-1 in
// order), places365_train_standard.txt ("/a/airfield/00000001.jpg 0", paths
// under data_256/), places365_val.txt ("Places365_val_00000001.jpg 165",
// files in val_256/). A train path must lie under its label's category
// folder.
type Places365Dataset struct {
	dir     string
	classes []Class
}

var _ Dataset = (*Places365Dataset)(nil)

// OpenPlaces365 reads categories_places365.txt.
func OpenPlaces365(dir string) (*Places365Dataset, error) {
	d := &Places365Dataset{dir: dir}
	path := filepath.Join(dir, placesCategories)
	if err := lines(path, func(n int, t string) error {
		f := strings.Fields(t)
		if len(f) != 2 {
			return layoutErr(path, n, "want \"<category> <label>\"")
		}
		lab, err := strconv.Atoi(f[1])
		if err != nil || lab != len(d.classes) {
			return layoutErr(path, n, "label %q out of order, want %d", f[1], len(d.classes))
		}
		name := strings.TrimPrefix(f[0], "/")
		if len(name) > 2 && name[1] == '/' { // "a/airfield" → "airfield"
			name = name[2:]
		}
		d.classes = append(d.classes, Class{ID: f[0], Name: name})
		return nil
	}); err != nil {
		return nil, err
	}
	if len(d.classes) == 0 {
		return nil, layoutErr(path, 0, "no categories")
	}
	return d, nil
}

func (d *Places365Dataset) Task() string     { return TaskPlaces365 }
func (d *Places365Dataset) Dir() string      { return d.dir }
func (d *Places365Dataset) Classes() []Class { return d.classes }

// Split reads places365_train_standard.txt or places365_val.txt.
func (d *Places365Dataset) Split(name string) ([]Item, error) {
	if err := checkSplit(name); err != nil {
		return nil, err
	}
	list, imgDir := placesTrain, placesTrainDir
	if name == SplitVal {
		list, imgDir = placesVal, placesValDir
	}
	path := filepath.Join(d.dir, list)
	var items []Item
	if err := lines(path, func(n int, t string) error {
		f := strings.Fields(t)
		if len(f) != 2 {
			return layoutErr(path, n, "want \"<image> <label>\"")
		}
		lab, err := strconv.Atoi(f[1])
		if err != nil || lab < 0 || lab >= len(d.classes) {
			return layoutErr(path, n, "label %q is not one of the %d categories in %s", f[1], len(d.classes), placesCategories)
		}
		if name == SplitTrain && !strings.HasPrefix(f[0], d.classes[lab].ID+"/") {
			return layoutErr(path, n, "image %s is not under category %s of label %d", f[0], d.classes[lab].ID, lab)
		}
		rel := filepath.FromSlash(strings.TrimPrefix(f[0], "/"))
		items = append(items, Item{Path: filepath.Join(d.dir, imgDir, rel), Class: int32(lab)})
		return nil
	}); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, layoutErr(path, 0, "no images")
	}
	if err := checkFiles(items, list); err != nil {
		return nil, err
	}
	return items, nil
}
