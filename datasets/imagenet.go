package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"weaksup/wordnet"
)

// ImageNet file names.
const (
	imagenetSynsetMapping = "LOC_synset_mapping.txt"
	imagenetSolution      = "LOC_val_solution.csv"
	imagenetGroundTruth   = "ILSVRC2012_validation_ground_truth.txt"
	imagenetDevkitData    = "ILSVRC2012_devkit_t12/data"
	imagenetDevkitOrder   = "synsets.txt"
)

// ImageNetDataset is ILSVRC-2012 classification in the layouts people keep:
//
//   - train/<wnid>/*.JPEG, one folder per class;
//   - val/<wnid>/*.JPEG (val sorted into class folders), or
//   - val/ILSVRC2012_val_NNNNNNNN.JPEG flat with LOC_val_solution.csv
//     ("ImageId,PredictionString", the first wnid of the prediction string
//     is the label; the Kaggle layout), or
//   - val/ flat with the devkit's ILSVRC2012_validation_ground_truth.txt
//     (line i is the ILSVRC2012_ID label of ILSVRC2012_val_0000000i.JPEG),
//     in DIR or DIR/ILSVRC2012_devkit_t12/data.
//
// Class order is LOC_synset_mapping.txt ("<wnid> <names>") when present,
// otherwise the sorted train folder names (both are torchvision's order);
// without train/ it is the sorted val folder names. Folder classes are
// named by their first WordNet 3.0 lemma (the embedded copy).
//
// The devkit numbers its labels in the order of meta.mat, which is not the
// sorted order and is a MATLAB file; write it as synsets.txt, one wnid per
// line in ILSVRC2012_ID order, beside the ground-truth file or in DIR, e.g.
//
//	python3 -c "import scipy.io as s; [print(r[0][1][0]) for r in s.loadmat('meta.mat')['synsets'] if r[0][0][0][0] <= 1000]" > synsets.txt
//
// or name another class-order file (or "folders" for the sorted train
// folder order) in Options.ImageNetClassOrder.
type ImageNetDataset struct {
	dir     string
	opt     Options
	classes []Class
	index   map[string]int
}

// OpenImageNet fixes the class order of the ImageNet layout in dir.
func OpenImageNet(dir string, opt Options) (*ImageNetDataset, error) {
	d := &ImageNetDataset{dir: dir, opt: opt, index: map[string]int{}}
	add := func(wnid, name string) {
		d.index[wnid] = len(d.classes)
		d.classes = append(d.classes, Class{ID: wnid, Name: name})
	}
	mapping := filepath.Join(dir, imagenetSynsetMapping)
	if _, err := os.Stat(mapping); err == nil {
		if err := lines(mapping, func(n int, t string) error {
			wnid, name, _ := strings.Cut(t, " ")
			if !isWNID(wnid) {
				return layoutErr(mapping, n, "want \"<wnid> <names>\", got %q", t)
			}
			if _, dup := d.index[wnid]; dup {
				return layoutErr(mapping, n, "wnid %s listed twice", wnid)
			}
			add(wnid, strings.TrimSpace(name))
			return nil
		}); err != nil {
			return nil, err
		}
		if len(d.classes) == 0 {
			return nil, layoutErr(mapping, 0, "no classes")
		}
		return d, nil
	}
	folderDir := filepath.Join(dir, SplitTrain)
	if _, err := os.Stat(folderDir); err != nil {
		if hasSubdirs(filepath.Join(dir, SplitVal)) {
			folderDir = filepath.Join(dir, SplitVal)
		}
	}
	folders, err := classFolders(folderDir)
	if err != nil {
		return nil, err
	}
	if len(folders) == 0 {
		return nil, layoutErr(folderDir, 0, "no class folders")
	}
	db, _ := wordnet.Embedded() // names only; without it classes are named by wnid
	for _, f := range folders {
		if !isWNID(f) {
			return nil, layoutErr(filepath.Join(folderDir, f), 0, "class folder is not a WordNet id like n01440764 (use the %s layout for other names)", ImageFolder)
		}
		add(f, synsetName(db, f))
	}
	return d, nil
}

// synsetName is the first lemma of a wnid's synset in WordNet 3.0, with
// spaces for underscores, or the wnid itself when WordNet does not know it.
func synsetName(db *wordnet.DB, wnid string) string {
	if db == nil {
		return wnid
	}
	s, err := db.Synset(wnid)
	if err != nil || s == nil || len(s.Lemmas()) == 0 {
		return wnid
	}
	return strings.ReplaceAll(s.Lemmas()[0], "_", " ")
}

func (d *ImageNetDataset) Layout() string   { return ImageNet }
func (d *ImageNetDataset) Dir() string      { return d.dir }
func (d *ImageNetDataset) Classes() []Class { return d.classes }

// Split lists train/ or val/ in whichever layout val/ is in.
func (d *ImageNetDataset) Split(name string) (Split, error) {
	items, err := d.files(name)
	if err != nil {
		return nil, err
	}
	return items, nil
}

func (d *ImageNetDataset) files(name string) (Files, error) {
	if err := checkSplit(name); err != nil {
		return nil, err
	}
	sdir := filepath.Join(d.dir, name)
	if name == SplitTrain || hasSubdirs(sdir) {
		return folderItems(sdir, d.index, name == SplitTrain)
	}
	if _, err := os.Stat(sdir); err != nil {
		return nil, &LayoutError{Path: sdir, Msg: "read val images", Err: err}
	}
	solution := filepath.Join(d.dir, imagenetSolution)
	if _, err := os.Stat(solution); err == nil {
		return d.solutionItems(solution, sdir)
	}
	gt, err := findFile("val labels: class folders in val/, "+imagenetSolution+" or "+imagenetGroundTruth,
		filepath.Join(d.dir, imagenetGroundTruth), filepath.Join(d.dir, imagenetDevkitData, imagenetGroundTruth))
	if err != nil {
		return nil, err
	}
	return d.groundTruthItems(gt, sdir)
}

func (d *ImageNetDataset) solutionItems(path, valDir string) (Files, error) {
	var items Files
	if err := lines(path, func(n int, t string) error {
		if n == 1 && strings.HasPrefix(t, "ImageId") {
			return nil
		}
		id, pred, ok := strings.Cut(t, ",")
		f := strings.Fields(pred)
		if !ok || id == "" || len(f) == 0 {
			return layoutErr(path, n, "want \"ImageId,<wnid> ...\", got %q", t)
		}
		c, ok := d.index[f[0]]
		if !ok {
			return layoutErr(path, n, "wnid %s is not one of the %d classes", f[0], len(d.classes))
		}
		items = append(items, Item{Path: filepath.Join(valDir, id+".JPEG"), Class: int32(c)})
		return nil
	}); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, layoutErr(path, 0, "no images")
	}
	if err := checkFiles(items, imagenetSolution); err != nil {
		return nil, err
	}
	return items, nil
}

func (d *ImageNetDataset) groundTruthItems(path, valDir string) (Files, error) {
	order, err := d.devkitOrder(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	var items Files
	k := 0
	if err := lines(path, func(n int, t string) error {
		k++
		if k != n {
			return layoutErr(path, n, "blank line %d: line i must label image i", k)
		}
		id, err := strconv.Atoi(t)
		if err != nil || id < 1 || id > len(order) {
			return layoutErr(path, n, "label %q is not an ILSVRC2012_ID in 1..%d", t, len(order))
		}
		items = append(items, Item{Path: filepath.Join(valDir, fmt.Sprintf("ILSVRC2012_val_%08d.JPEG", n)), Class: int32(order[id-1])})
		return nil
	}); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, layoutErr(path, 0, "no labels")
	}
	if err := checkFiles(items, imagenetGroundTruth); err != nil {
		return nil, err
	}
	return items, nil
}

// devkitOrder maps ILSVRC2012_ID-1 to a class index.
func (d *ImageNetDataset) devkitOrder(gtDir string) ([]int, error) {
	if d.opt.ImageNetClassOrder == "folders" {
		o := make([]int, len(d.classes))
		for i := range o {
			o[i] = i
		}
		return o, nil
	}
	path := d.opt.ImageNetClassOrder
	if path == "" {
		var err error
		path, err = findFile("class order of "+imagenetGroundTruth+" (one wnid per line in ILSVRC2012_ID order, exported from the devkit's meta.mat)",
			filepath.Join(gtDir, imagenetDevkitOrder), filepath.Join(d.dir, imagenetDevkitOrder))
		if err != nil {
			return nil, err
		}
	}
	var order []int
	if err := lines(path, func(n int, t string) error {
		wnid, _, _ := strings.Cut(t, " ")
		c, ok := d.index[wnid]
		if !ok {
			return layoutErr(path, n, "wnid %q is not one of the %d classes", wnid, len(d.classes))
		}
		order = append(order, c)
		return nil
	}); err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, layoutErr(path, 0, "no classes")
	}
	return order, nil
}

// isWNID reports whether s looks like a WordNet noun id (n + 8 digits).
func isWNID(s string) bool {
	if len(s) != 9 || s[0] != 'n' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ImageNetVal lists the ImageNet validation images of a folder without
// their labels: ILSVRC2012_val_*.JPEG either directly in it or in one
// folder per class (n01440764/...), as de-duplication reads them.
type ImageNetVal struct{}

// List implements Lister.
func (ImageNetVal) List(dir string) (string, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, &LayoutError{Path: dir, Msg: "list ImageNet images", Err: err}
	}
	var out []string
	for _, e := range entries {
		full := filepath.Join(dir, e.Name())
		switch {
		case hidden(e.Name()):
		case isDirEntry(full, e):
			imgs, err := imagesIn(full)
			if err != nil {
				return "", nil, err
			}
			for _, name := range imgs {
				out = append(out, e.Name()+"/"+name)
			}
		case isImageEntry(full, e):
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		return "", nil, &LayoutError{Path: dir, Msg: "list ImageNet images", Err: ErrNoImages}
	}
	slices.Sort(out)
	return dir, out, nil
}
