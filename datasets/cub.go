package datasets

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
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

var errMissingField = errors.New("missing field")

// CUBDataset is Caltech-UCSD Birds-200-2011 as distributed: images.txt
// ("<image id> <path under images/>"), image_class_labels.txt ("<image id>
// <class id>"), train_test_split.txt ("<image id> <1 train | 0 test>"),
// classes.txt ("<class id> <name>", ids 1..K) and images/. DIR may be the
// CUB_200_2011 folder or the folder that holds it. The test split is the val
// split here.
type CUBDataset struct {
	dir     string
	classes []Class
	train   Files
	val     Files
}

// cubImage is one line of images.txt and what the other files say of it.
type cubImage struct {
	rel     string // slash-separated, under images/
	line    int
	class   int // index into classes, -1 until labelled
	isTrain int // 1 train, 0 test, -1 until flagged
}

// cubListing is images.txt and train_test_split.txt of a CUB folder: what
// both the labelled dataset and the unlabelled listing read.
type cubListing struct {
	dir    string
	order  []int // image ids in images.txt order
	images map[int]*cubImage
}

// cubRoot returns dir, or its CUB_200_2011 folder when that is where
// images.txt is.
func cubRoot(dir string) string {
	if !exists(filepath.Join(dir, cubImages)) && exists(filepath.Join(dir, "CUB_200_2011", cubImages)) {
		return filepath.Join(dir, "CUB_200_2011")
	}
	return dir
}

// readCUBListing reads images.txt and train_test_split.txt of dir and
// checks that every image has its train/test flag.
func readCUBListing(dir string) (*cubListing, error) {
	l := &cubListing{dir: dir, images: map[int]*cubImage{}}
	path := filepath.Join(dir, cubImages)
	if err := lines(path, func(n int, t string) error {
		id, rel, err := idAndRest(t)
		if err != nil {
			return layoutErr(path, n, "want \"<image id> <path>\": %v", err)
		}
		if rel, err = cleanRelative(rel); err != nil {
			return layoutErr(path, n, "%v", err)
		}
		if _, dup := l.images[id]; dup {
			return layoutErr(path, n, "image id %d listed twice", id)
		}
		l.images[id] = &cubImage{rel: rel, line: n, class: -1, isTrain: -1}
		l.order = append(l.order, id)
		return nil
	}); err != nil {
		return nil, err
	}
	if len(l.order) == 0 {
		return nil, &LayoutError{Path: path, Msg: "no images", Err: ErrNoImages}
	}
	split := filepath.Join(dir, cubSplit)
	if err := lines(split, func(n int, t string) error {
		id, v, err := twoInts(t)
		if err != nil || (v != 0 && v != 1) {
			return layoutErr(split, n, "want \"<image id> <1 train | 0 test>\"")
		}
		im, ok := l.images[id]
		if !ok {
			return layoutErr(split, n, "image id %d is not in %s", id, cubImages)
		}
		im.isTrain = v
		return nil
	}); err != nil {
		return nil, err
	}
	for _, id := range l.order {
		if im := l.images[id]; im.isTrain < 0 {
			return nil, layoutErr(split, 0, "no train/test flag for image id %d (%s line %d)", id, cubImages, im.line)
		}
	}
	return l, nil
}

// path is the file of image im.
func (l *cubListing) path(im *cubImage) string {
	return filepath.Join(l.dir, cubDir, filepath.FromSlash(im.rel))
}

// OpenCUB reads and cross-checks the four listing files of dir.
func OpenCUB(dir string) (*CUBDataset, error) {
	dir = cubRoot(dir)
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
	l, err := readCUBListing(dir)
	if err != nil {
		return nil, err
	}
	if err := lines(p(cubLabels), func(n int, t string) error {
		id, v, err := twoInts(t)
		if err != nil {
			return layoutErr(p(cubLabels), n, "want \"<image id> <class id>\": %v", err)
		}
		im, ok := l.images[id]
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
	for _, id := range l.order {
		im := l.images[id]
		if im.class < 0 {
			return nil, layoutErr(p(cubLabels), 0, "no class for image id %d (%s line %d)", id, cubImages, im.line)
		}
		it := Item{Path: l.path(im), Class: int32(im.class)}
		if im.isTrain == 1 {
			d.train = append(d.train, it)
		} else {
			d.val = append(d.val, it)
		}
	}
	return d, nil
}

func (d *CUBDataset) Layout() string   { return CUB }
func (d *CUBDataset) Dir() string      { return d.dir }
func (d *CUBDataset) Classes() []Class { return d.classes }

// Split returns the train (is_training_image 1) or val (0) images.
func (d *CUBDataset) Split(name string) (Split, error) {
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

// CUBImages lists the images of a CUB-200-2011 folder without their labels,
// from images.txt and train_test_split.txt: the test images, or all of
// them when All is set.
type CUBImages struct{ All bool }

// List implements Lister.
func (c CUBImages) List(dir string) (string, []string, error) {
	l, err := readCUBListing(cubRoot(dir))
	if err != nil {
		return "", nil, err
	}
	var out []string
	for _, id := range l.order {
		if im := l.images[id]; c.All || im.isTrain == 0 {
			out = append(out, im.rel)
		}
	}
	if len(out) == 0 {
		return "", nil, &LayoutError{Path: filepath.Join(l.dir, cubSplit), Msg: "no test images", Err: ErrNoImages}
	}
	slices.Sort(out)
	return filepath.Join(l.dir, cubDir), slices.Compact(out), nil
}

// isCUB reports whether dir holds the two listing files CUBImages reads.
func isCUB(dir string) bool {
	_, err1 := os.Stat(filepath.Join(dir, cubImages))
	_, err2 := os.Stat(filepath.Join(dir, cubSplit))
	return err1 == nil && err2 == nil
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
