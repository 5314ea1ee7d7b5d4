package finetune

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"weaksup/loader"
)

// Split names.
const (
	SplitTrain = "train"
	SplitVal   = "val"
)

// Task names, as --task takes them.
const (
	TaskImageNet    = "imagenet"
	TaskCUB         = "cub"
	TaskPlaces365   = "places365"
	TaskImageFolder = "imagefolder"
)

// Tasks lists the task names in the order help texts show them.
var Tasks = []string{TaskImageNet, TaskCUB, TaskPlaces365, TaskImageFolder}

var (
	// ErrUnknownTask is returned by Open for a task name it does not know.
	ErrUnknownTask = errors.New("unknown task")
	// ErrUnknownSplit is returned by Dataset.Split for a split other than
	// train or val.
	ErrUnknownSplit = errors.New("unknown split")

	errMissingField = errors.New("missing field")
)

// Item is one labelled image: a file path and its class index into
// Dataset.Classes. It is the loader's FileItem, so a split goes straight to
// loader.NewFileSource.
type Item = loader.FileItem

// Class is one target class: ID is what the layout calls it on disk (a
// WordNet id, a CUB class number, a Places category path, a folder name),
// Name is a readable name.
type Class struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Dataset is a labelled target task as it lies on disk. Classes are fixed
// when the dataset is opened; Split reads the listing of one split, checks
// that every image it names exists, and returns its items in a stable order.
type Dataset interface {
	Task() string
	Dir() string
	Classes() []Class
	Split(name string) ([]Item, error)
}

// Options tune how layouts are read.
type Options struct {
	// ImageNetClassOrder is the class-order file that the devkit's
	// ILSVRC2012_validation_ground_truth.txt numbers its labels by: one wnid
	// per line, line i is label i. Empty looks for synsets.txt in the
	// dataset directory and in ILSVRC2012_devkit_t12/data/; "folders" uses
	// the sorted train folder names (only right for ground-truth files
	// written in that order).
	ImageNetClassOrder string `json:"imagenet_class_order,omitempty"`
}

// Open opens the dataset of task in dir.
func Open(task, dir string, opt Options) (Dataset, error) {
	switch task {
	case TaskImageNet:
		return OpenImageNet(dir, opt)
	case TaskCUB:
		return OpenCUB(dir)
	case TaskPlaces365:
		return OpenPlaces365(dir)
	case TaskImageFolder:
		return OpenImageFolder(dir)
	}
	return nil, fmt.Errorf("open dataset: %w %q (want %s)", ErrUnknownTask, task, strings.Join(Tasks, ", "))
}

// LayoutError is a problem with one file (and optionally one line) of a
// dataset layout.
type LayoutError struct {
	Path string
	Line int // 1-based; 0 when the problem is the file as a whole
	Msg  string
	Err  error
}

func (e *LayoutError) Error() string {
	s := e.Path
	if e.Line > 0 {
		s = fmt.Sprintf("%s:%d", s, e.Line)
	}
	s += ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *LayoutError) Unwrap() error { return e.Err }

func layoutErr(path string, line int, format string, args ...any) error {
	return &LayoutError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// imageExt reports whether name looks like an image the loader decodes.
func imageExt(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// classFolders returns the sorted names of the subdirectories of dir.
func classFolders(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, &LayoutError{Path: dir, Msg: "read class folders", Err: err}
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// imagesIn returns the sorted image files directly inside dir.
func imagesIn(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, &LayoutError{Path: dir, Msg: "read image folder", Err: err}
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() && imageExt(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// folderItems lists dir/<class>/<image> for classes named by folder,
// mapping each folder through index. A folder index does not know is an
// error naming it; so is a class folder with no images when requireAll.
func folderItems(dir string, index map[string]int, requireImages bool) ([]Item, error) {
	folders, err := classFolders(dir)
	if err != nil {
		return nil, err
	}
	if len(folders) == 0 {
		return nil, layoutErr(dir, 0, "no class folders")
	}
	var items []Item
	for _, f := range folders {
		c, ok := index[f]
		if !ok {
			return nil, layoutErr(filepath.Join(dir, f), 0, "class folder %q is not one of the %d training classes", f, len(index))
		}
		imgs, err := imagesIn(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		if len(imgs) == 0 && requireImages {
			return nil, layoutErr(filepath.Join(dir, f), 0, "class folder holds no .jpg, .jpeg or .png images")
		}
		for _, name := range imgs {
			items = append(items, Item{Path: filepath.Join(dir, f, name), Class: int32(c)})
		}
	}
	return items, nil
}

// lines calls fn with every non-blank line of path (trimmed) and its
// 1-based number.
func lines(path string, fn func(line int, text string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return &LayoutError{Path: path, Msg: "open", Err: err}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		t := strings.TrimSpace(sc.Text())
		if t == "" {
			continue
		}
		if err := fn(n, t); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return &LayoutError{Path: path, Line: n + 1, Msg: "read", Err: err}
	}
	return nil
}

// findFile returns the first of candidates that exists, or a LayoutError
// naming the first candidate.
func findFile(what string, candidates ...string) (string, error) {
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", &LayoutError{Path: candidates[0], Msg: "missing " + what, Err: fs.ErrNotExist}
}

// checkFiles stats every item's file and returns an error naming the first
// missing one (in item order) and the listing that named it.
func checkFiles(items []Item, listing string) error {
	const workers = 8
	missing := make([]bool, len(items))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(items); i += workers {
				if st, err := os.Stat(items[i].Path); err != nil || st.IsDir() {
					missing[i] = true
				}
			}
		}()
	}
	wg.Wait()
	for i, m := range missing {
		if m {
			return &LayoutError{Path: items[i].Path, Msg: "image listed in " + listing + " is missing", Err: fs.ErrNotExist}
		}
	}
	return nil
}

func checkSplit(name string) error {
	if name != SplitTrain && name != SplitVal {
		return fmt.Errorf("read split %q: %w (want %s or %s)", name, ErrUnknownSplit, SplitTrain, SplitVal)
	}
	return nil
}

// ClassCounts returns how many items each of k classes has.
func ClassCounts(items []Item, k int) []int {
	c := make([]int, k)
	for _, it := range items {
		if int(it.Class) < k && it.Class >= 0 {
			c[it.Class]++
		}
	}
	return c
}
