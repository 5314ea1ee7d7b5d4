package finetune

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CUB-200-2011 file names.
const (
	cubImages = "images.txt"
	cubLabels = "image_class_labels.txt"
	cubSplit  = "train_test_split.txt"
	cubClass  = "classes.txt"
	cubDir    = "images"
)

// CUBDataset is Caltech-UCSD Birds-200-2011 as distributed: images.txt
// ("<image id> <path under images/>"), image_class_labels.txt ("<image id>
// <class id>"), train_test_split.txt ("<image id> <1 train | 0 test>"),
// classes.txt ("<class id> <name>", ids 1..K) and images/. DIR may be the
// CUB_200_2011 folder or the folder that holds it. The test split is the val
// split here.
type CUBDataset struct {
	dir     string
	classes []Class
	train   []Item
	val     []Item
}

var _ Dataset = (*CUBDataset)(nil)

// OpenCUB reads and cross-checks the four listing files of dir.
func OpenCUB(dir string) (*CUBDataset, error) {
	if _, err := os.Stat(filepath.Join(dir, cubImages)); err != nil {
		if _, err2 := os.Stat(filepath.Join(dir, "CUB_200_2011", cubImages)); err2 == nil {
			dir = filepath.Join(dir, "CUB_200_2011")
		}
	}
	d := &CUBDataset{dir: dir}
	p := func(name string) string { return filepath.Join(dir, name) }

	classIndex := map[int]int{}
	if err := lines(p(cubClass), func(n int, t string) error {
		id, name, err := idAndRest(t)
		if err != nil {
			return layoutErr(p(cubClass), n, "want \"<class id> <name>\": %v", err)
		}
		if id != len(d.classes)+1 {
			return layoutErr(p(cubClass), n, "class id %d out of order, want %d", id, len(d.classes)+1)
		}
		classIndex[id] = len(d.classes)
		d.classes = append(d.classes, Class{ID: strconv.Itoa(id), Name: name})
		return nil
	}); err != nil {
		return nil, err
	}
	if len(d.classes) == 0 {
		return nil, layoutErr(p(cubClass), 0, "no classes")
	}

	type image struct {
		path    string
		line    int
		class   int
		isTrain int
	}
	var order []int
	images := map[int]*image{}
	if err := lines(p(cubImages), func(n int, t string) error {
		id, rel, err := idAndRest(t)
		if err != nil {
			return layoutErr(p(cubImages), n, "want \"<image id> <path>\": %v", err)
		}
		if _, dup := images[id]; dup {
			return layoutErr(p(cubImages), n, "image id %d listed twice", id)
		}
		images[id] = &image{path: filepath.Join(dir, cubDir, filepath.FromSlash(rel)), line: n, class: -1, isTrain: -1}
		order = append(order, id)
		return nil
	}); err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, layoutErr(p(cubImages), 0, "no images")
	}

	if err := lines(p(cubLabels), func(n int, t string) error {
		id, v, err := twoInts(t)
		if err != nil {
			return layoutErr(p(cubLabels), n, "want \"<image id> <class id>\": %v", err)
		}
		im, ok := images[id]
		if !ok {
			return layoutErr(p(cubLabels), n, "image id %d is not in %s", id, cubImages)
		}
		c, ok := classIndex[v]
		if !ok {
			return layoutErr(p(cubLabels), n, "class id %d is not in %s", v, cubClass)
		}
		im.class = c
		return nil
	}); err != nil {
		return nil, err
	}
	if err := lines(p(cubSplit), func(n int, t string) error {
		id, v, err := twoInts(t)
		if err != nil || (v != 0 && v != 1) {
			return layoutErr(p(cubSplit), n, "want \"<image id> <1 train | 0 test>\"")
		}
		im, ok := images[id]
		if !ok {
			return layoutErr(p(cubSplit), n, "image id %d is not in %s", id, cubImages)
		}
		im.isTrain = v
		return nil
	}); err != nil {
		return nil, err
	}
	for _, id := range order {
		im := images[id]
		if im.class < 0 {
			return nil, layoutErr(p(cubLabels), 0, "no class for image id %d (%s line %d)", id, cubImages, im.line)
		}
		if im.isTrain < 0 {
			return nil, layoutErr(p(cubSplit), 0, "no train/test flag for image id %d (%s line %d)", id, cubImages, im.line)
		}
		it := Item{Path: im.path, Class: int32(im.class)}
		if im.isTrain == 1 {
			d.train = append(d.train, it)
		} else {
			d.val = append(d.val, it)
		}
	}
	return d, nil
}

func (d *CUBDataset) Task() string     { return TaskCUB }
func (d *CUBDataset) Dir() string      { return d.dir }
func (d *CUBDataset) Classes() []Class { return d.classes }

// Split returns the train (is_training_image 1) or val (0) images.
func (d *CUBDataset) Split(name string) ([]Item, error) {
	if err := checkSplit(name); err != nil {
		return nil, err
	}
	items := d.train
	if name == SplitVal {
		items = d.val
	}
	if len(items) == 0 {
		return nil, layoutErr(filepath.Join(d.dir, cubSplit), 0, "no %s images", name)
	}
	if err := checkFiles(items, cubImages); err != nil {
		return nil, err
	}
	return items, nil
}

// idAndRest splits "<int> <text>".
func idAndRest(t string) (int, string, error) {
	a, b, ok := strings.Cut(t, " ")
	b = strings.TrimSpace(b)
	if !ok || b == "" {
		return 0, "", errMissingField
	}
	id, err := strconv.Atoi(a)
	if err != nil {
		return 0, "", err
	}
	return id, b, nil
}

// twoInts parses "<int> <int>".
func twoInts(t string) (int, int, error) {
	f := strings.Fields(t)
	if len(f) != 2 {
		return 0, 0, errMissingField
	}
	a, err := strconv.Atoi(f[0])
	if err != nil {
		return 0, 0, err
	}
	b, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, err
	}
	return a, b, nil
}
