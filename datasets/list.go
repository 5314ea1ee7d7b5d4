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

// Listing formats (what a test set's :FORMAT names).
const (
	FormatAuto      = "auto"    // detect from the path (DetectFormat)
	FormatImageNet  = ImageNet  // ImageNet val: a flat folder or class folders
	FormatCUB       = CUB       // CUB-200-2011 root with images.txt and train_test_split.txt
	FormatPlaces365 = Places365 // Places365 val_256 folder or a file list
	FormatFolder    = "folder"  // any ImageFolder or flat folder, searched recursively
)

// Formats lists the listing formats.
var Formats = []string{FormatAuto, FormatImageNet, FormatCUB, FormatPlaces365, FormatFolder}

// Listing splits: which images of a layout with a train/test split a
// Lister lists (only CUB-200-2011 has one in its listing files).
const (
	ListTest = "test"
	ListAll  = "all"
)

// DetectFormat names the format of path: a regular file is a Places365 file
// list, a folder with images.txt and train_test_split.txt is CUB-200-2011,
// and any other folder is searched recursively.
func DetectFormat(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", &LayoutError{Path: path, Msg: "detect dataset format", Err: err}
	}
	switch {
	case fi.Mode().IsRegular():
		return FormatPlaces365, nil
	case isCUB(path):
		return FormatCUB, nil
	}
	return FormatFolder, nil
}

// ListerFor returns the Lister of format (FormatAuto detects it from path)
// and the resolved format. split is ListTest or ListAll.
func ListerFor(path, format, split string) (Lister, string, error) {
	if format == FormatAuto || format == "" {
		var err error
		if format, err = DetectFormat(path); err != nil {
			return nil, "", err
		}
	}
	if split != ListTest && split != ListAll {
		return nil, "", fmt.Errorf("list %s: split %q: want %s or %s", path, split, ListTest, ListAll)
	}
	switch format {
	case FormatImageNet:
		return ImageNetVal{}, format, nil
	case FormatCUB:
		return CUBImages{All: split == ListAll}, format, nil
	case FormatPlaces365:
		return Places365Val{}, format, nil
	case FormatFolder:
		return Folder{}, format, nil
	}
	return nil, "", fmt.Errorf("list %s: %w %q (want one of %s)", path, ErrUnknownLayout, format, strings.Join(Formats, ", "))
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
