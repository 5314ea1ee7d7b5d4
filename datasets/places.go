package datasets

import (
	"os"
	"path/filepath"
	"slices"
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
	placesValLarge   = "val_large"
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

func (d *Places365Dataset) Layout() string   { return Places365 }
func (d *Places365Dataset) Dir() string      { return d.dir }
func (d *Places365Dataset) Classes() []Class { return d.classes }

// Split reads places365_train_standard.txt or places365_val.txt.
func (d *Places365Dataset) Split(name string) (Split, error) {
	if err := checkSplit(name); err != nil {
		return nil, err
	}
	list, imgDir := placesTrain, placesTrainDir
	if name == SplitVal {
		list, imgDir = placesVal, placesValDir
	}
	path := filepath.Join(d.dir, list)
	var items Files
	if err := readPlacesList(path, func(n int, rel string, rest []string) error {
		if len(rest) != 1 {
			return layoutErr(path, n, "want \"<image> <label>\"")
		}
		lab, err := strconv.Atoi(rest[0])
		if err != nil || lab < 0 || lab >= len(d.classes) {
			return layoutErr(path, n, "label %q is not one of the %d categories in %s", rest[0], len(d.classes), placesCategories)
		}
		if cat := strings.TrimPrefix(d.classes[lab].ID, "/"); name == SplitTrain && !strings.HasPrefix(rel, cat+"/") {
			return layoutErr(path, n, "image %s is not under category %s of label %d", rel, d.classes[lab].ID, lab)
		}
		items = append(items, Item{Path: filepath.Join(d.dir, imgDir, filepath.FromSlash(rel)), Class: int32(lab)})
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

// readPlacesList calls fn with every line of a Places365 file list
// ("<image> [<label> ...]"): the image's path, cleaned and relative (lists
// root it at the data folder with a leading slash), and the other fields.
func readPlacesList(path string, fn func(line int, rel string, rest []string) error) error {
	return lines(path, func(n int, t string) error {
		f := strings.Fields(t)
		rel, err := cleanRelative(strings.TrimLeft(f[0], "/"))
		if err != nil {
			return layoutErr(path, n, "%v", err)
		}
		return fn(n, rel, f[1:])
	})
}

// Places365Val lists the Places365 validation images without their
// labels: a folder of images (val_256, val_large), or a file list such as
// places365_val.txt whose names are resolved against the list's folder, or
// its val_256 or val_large folder, whichever holds the first.
type Places365Val struct{}

// List implements Lister.
func (Places365Val) List(p string) (string, []string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return "", nil, &LayoutError{Path: p, Msg: "open Places365 images", Err: err}
	}
	if fi.IsDir() {
		return Folder{}.List(p)
	}
	var names []string
	if err := readPlacesList(p, func(_ int, rel string, _ []string) error {
		names = append(names, rel)
		return nil
	}); err != nil {
		return "", nil, err
	}
	if len(names) == 0 {
		return "", nil, &LayoutError{Path: p, Msg: "read Places365 file list", Err: ErrNoImages}
	}
	dir := filepath.Dir(p)
	root := dir
	for _, cand := range []string{dir, filepath.Join(dir, placesValDir), filepath.Join(dir, placesValLarge)} {
		if exists(filepath.Join(cand, filepath.FromSlash(names[0]))) {
			root = cand
			break
		}
	}
	slices.Sort(names)
	return root, slices.Compact(names), nil
}
