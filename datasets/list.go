package datasets

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Lister lists the image files of a dataset folder in one on-disk format,
// without their labels: what de-duplication hashes.
type Lister interface {
	// List returns the folder the images are relative to and their
	// slash-separated paths, sorted.
	List(path string) (root string, images []string, err error)
}

var (
	_ Lister = ImageNetVal{}
	_ Lister = CUBImages{}
	_ Lister = Places365Val{}
	_ Lister = Folder{}
)

// LayoutAuto asks ListerFor to detect a folder's layout from its path
// (DetectLayout).
const LayoutAuto = "auto"

// FormerLayoutNames maps a former spelling of a layout name to the name:
// test sets called the image-folder layout "folder" before they took the
// name --task gives it. ListerFor accepts either.
var FormerLayoutNames = map[string]string{"folder": ImageFolder}

// Listing splits: which images of a layout with a train/test split a
// Lister lists (only CUB-200-2011 has one in its listing files).
const (
	ListTest = "test"
	ListAll  = "all"
)

// DetectLayout names the layout of path: a regular file is a Places365
// file list, a folder with images.txt and train_test_split.txt is
// CUB-200-2011, and any other folder is an image folder, searched
// recursively.
func DetectLayout(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", &LayoutError{Path: path, Msg: "detect dataset layout", Err: err}
	}
	switch {
	case fi.Mode().IsRegular():
		return Places365, nil
	case isCUB(path):
		return CUB, nil
	}
	return ImageFolder, nil
}

// lister returns the Lister of a layout name, nil for a layout whose
// images are not files (CIFAR's binary batches) or an unknown name.
func lister(layout, split string) Lister {
	switch layout {
	case ImageNet:
		return ImageNetVal{} // a flat folder or class folders
	case CUB:
		return CUBImages{All: split == ListAll} // the root with images.txt and train_test_split.txt
	case Places365:
		return Places365Val{} // the val_256 folder or a file list
	case ImageFolder:
		return Folder{} // any ImageFolder or flat folder, searched recursively
	}
	return nil
}

// ListedLayouts returns the names of the layouts ListerFor lists, in the
// order of Layouts: every layout whose images are files.
func ListedLayouts() []string {
	var out []string
	for _, l := range Layouts {
		if lister(l, ListAll) != nil {
			out = append(out, l)
		}
	}
	return out
}

// ListerFor returns the Lister of a layout (LayoutAuto detects it from
// path; a former spelling names its layout) and the resolved layout name.
// split is ListTest or ListAll.
func ListerFor(path, layout, split string) (Lister, string, error) {
	if name, ok := FormerLayoutNames[layout]; ok {
		layout = name
	}
	if layout == LayoutAuto || layout == "" {
		var err error
		if layout, err = DetectLayout(path); err != nil {
			return nil, "", err
		}
	}
	if split != ListTest && split != ListAll {
		return nil, "", fmt.Errorf("list %s: split %q: want %s or %s", path, split, ListTest, ListAll)
	}
	l := lister(layout, split)
	if l == nil {
		return nil, "", fmt.Errorf("list %s: %w %q (want one of %s, %s)", path, ErrUnknownLayout, layout, LayoutAuto, strings.Join(ListedLayouts(), ", "))
	}
	return l, layout, nil
}

// Folder is any folder of images, searched recursively: an ImageFolder (one
// sub-folder per class) or a flat folder. Hidden files and folders are
// skipped; symbolic links to image files are followed, links to folders are
// not (except the folder itself).
type Folder struct{}

// List implements Lister.
func (Folder) List(p string) (string, []string, error) {
	walkRoot := p
	if resolved, err := filepath.EvalSymlinks(p); err == nil {
		walkRoot = resolved
	}
	var out []string
	err := filepath.WalkDir(walkRoot, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if hidden(d.Name()) && q != walkRoot {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if isImageEntry(q, d) {
			rel, err := filepath.Rel(walkRoot, q)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return "", nil, &LayoutError{Path: p, Msg: "list images", Err: err}
	}
	if len(out) == 0 {
		return "", nil, &LayoutError{Path: p, Msg: "list images", Err: ErrNoImages}
	}
	slices.Sort(out)
	return p, out, nil
}
