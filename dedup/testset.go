package dedup

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Errors of test-set specifications and layouts.
var (
	ErrBadSpec       = errors.New("want NAME=PATH[:FORMAT]")
	ErrUnknownFormat = errors.New("unknown test-set format")
	ErrNoImages      = errors.New("no images found")
)

// Test-set formats.
const (
	FormatAuto      = "auto"      // detect from the path
	FormatImageNet  = "imagenet"  // ImageNet val: a flat folder or class folders
	FormatCUB       = "cub"       // CUB-200-2011 root with images.txt and train_test_split.txt
	FormatPlaces365 = "places365" // Places365 val_256 folder or a file list
	FormatFolder    = "folder"    // any ImageFolder or flat folder, searched recursively
)

// Formats lists the formats a spec may name.
var Formats = []string{FormatAuto, FormatImageNet, FormatCUB, FormatPlaces365, FormatFolder}

// Spec names one test set on the command line: NAME=PATH[:FORMAT].
type Spec struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Format string `json:"format"`
}

func (s Spec) String() string { return s.Name + "=" + s.Path + ":" + s.Format }

// ParseSpec parses NAME=PATH[:FORMAT]. A trailing :FORMAT is taken only
// when it names a known format, so paths may contain colons.
func ParseSpec(s string) (Spec, error) {
	name, p, ok := strings.Cut(s, "=")
	if !ok || name == "" || p == "" {
		return Spec{}, fmt.Errorf("parse test set %q: %w", s, ErrBadSpec)
	}
	if !validName(name) {
		return Spec{}, fmt.Errorf("parse test set %q: name %q may hold only letters, digits, '-', '_' and '.': %w", s, name, ErrBadSpec)
	}
	spec := Spec{Name: name, Path: p, Format: FormatAuto}
	if i := strings.LastIndex(p, ":"); i >= 0 && slices.Contains(Formats, p[i+1:]) {
		spec.Path, spec.Format = p[:i], p[i+1:]
	}
	if spec.Path == "" {
		return Spec{}, fmt.Errorf("parse test set %q: empty path: %w", s, ErrBadSpec)
	}
	return spec, nil
}

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return s != "." && s != ".."
}

// Layout lists the images of a test set in one on-disk format.
type Layout interface {
	// List returns the directory the images are relative to and their
	// slash-separated paths, sorted.
	List(p string) (root string, images []string, err error)
}

var (
	_ Layout = ImageNetLayout{}
	_ Layout = CUBLayout{}
	_ Layout = Places365Layout{}
	_ Layout = FolderLayout{}
)

// LayoutFor returns the layout of spec, detecting it for FormatAuto: a
// regular file is a Places365 file list, a folder with images.txt and
// train_test_split.txt is CUB-200-2011, and any other folder is searched
// recursively. split ("test" or "all") applies to CUB.
func LayoutFor(spec Spec, split string) (Layout, string, error) {
	format := spec.Format
	if format == FormatAuto || format == "" {
		fi, err := os.Stat(spec.Path)
		if err != nil {
			return nil, "", fmt.Errorf("open test set %s: %w", spec.Name, err)
		}
		switch {
		case fi.Mode().IsRegular():
			format = FormatPlaces365
		case exists(filepath.Join(spec.Path, "images.txt")) && exists(filepath.Join(spec.Path, "train_test_split.txt")):
			format = FormatCUB
		default:
			format = FormatFolder
		}
	}
	switch format {
	case FormatImageNet:
		return ImageNetLayout{}, format, nil
	case FormatCUB:
		if split != "test" && split != "all" {
			return nil, "", fmt.Errorf("test set %s: split %q: want test or all", spec.Name, split)
		}
		return CUBLayout{All: split == "all"}, format, nil
	case FormatPlaces365:
		return Places365Layout{}, format, nil
	case FormatFolder:
		return FolderLayout{}, format, nil
	}
	return nil, "", fmt.Errorf("test set %s: %w %q (want one of %s)", spec.Name, ErrUnknownFormat, format, strings.Join(Formats, ", "))
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// imageExts are the file extensions read as images (compared lower-case).
var imageExts = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}

func isImage(name string) bool {
	return slices.Contains(imageExts, strings.ToLower(path.Ext(name)))
}

// FolderLayout is any folder of images, searched recursively: an
// ImageFolder (one sub-folder per class) or a flat folder. Hidden files and
// folders are skipped; symbolic links to image files are followed, links to
// folders are not (except the folder itself).
type FolderLayout struct{}

// isImageEntry reports whether a directory entry is an image file, or a
// symbolic link to one.
func isImageEntry(full string, d fs.DirEntry) bool {
	if !isImage(d.Name()) || strings.HasPrefix(d.Name(), ".") {
		return false
	}
	if d.Type()&fs.ModeSymlink != 0 {
		fi, err := os.Stat(full)
		return err == nil && fi.Mode().IsRegular()
	}
	return d.Type().IsRegular()
}

// isDirEntry reports whether a directory entry is a folder, or a symbolic
// link to one.
func isDirEntry(full string, d fs.DirEntry) bool {
	if d.Type()&fs.ModeSymlink != 0 {
		fi, err := os.Stat(full)
		return err == nil && fi.IsDir()
	}
	return d.IsDir()
}

// List implements Layout.
func (FolderLayout) List(p string) (string, []string, error) {
	walkRoot := p
	if resolved, err := filepath.EvalSymlinks(p); err == nil {
		walkRoot = resolved
	}
	var out []string
	err := filepath.WalkDir(walkRoot, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && q != walkRoot {
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
		return "", nil, fmt.Errorf("list images under %s: %w", p, err)
	}
	if len(out) == 0 {
		return "", nil, fmt.Errorf("list images under %s: %w", p, ErrNoImages)
	}
	slices.Sort(out)
	return p, out, nil
}

// ImageNetLayout is the ImageNet validation set: ILSVRC2012_val_*.JPEG
// either directly in the folder or in one folder per class (n01440764/...).
type ImageNetLayout struct{}

// List implements Layout.
func (ImageNetLayout) List(p string) (string, []string, error) {
	entries, err := os.ReadDir(p)
	if err != nil {
		return "", nil, fmt.Errorf("list ImageNet folder %s: %w", p, err)
	}
	var out []string
	for _, e := range entries {
		full := filepath.Join(p, e.Name())
		switch {
		case strings.HasPrefix(e.Name(), "."):
		case isDirEntry(full, e):
			sub, err := os.ReadDir(full)
			if err != nil {
				return "", nil, fmt.Errorf("list ImageNet class folder: %w", err)
			}
			for _, s := range sub {
				if isImageEntry(filepath.Join(full, s.Name()), s) {
					out = append(out, e.Name()+"/"+s.Name())
				}
			}
		case isImageEntry(full, e):
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		return "", nil, fmt.Errorf("list ImageNet folder %s: %w", p, ErrNoImages)
	}
	slices.Sort(out)
	return p, out, nil
}

// CUBLayout is a CUB-200-2011 root: images.txt ("ID PATH"),
// train_test_split.txt ("ID IS_TRAINING") and the images under images/.
// Only test images are listed unless All is set.
type CUBLayout struct{ All bool }

// List implements Layout.
func (l CUBLayout) List(p string) (string, []string, error) {
	imagesFile := filepath.Join(p, "images.txt")
	f, err := os.Open(imagesFile)
	if err != nil {
		return "", nil, fmt.Errorf("open CUB image list: %w", err)
	}
	defer f.Close()
	images, err := parseCUBImages(f, imagesFile)
	if err != nil {
		return "", nil, err
	}
	splitFile := filepath.Join(p, "train_test_split.txt")
	g, err := os.Open(splitFile)
	if err != nil {
		return "", nil, fmt.Errorf("open CUB split: %w", err)
	}
	defer g.Close()
	training, err := parseCUBSplit(g, splitFile)
	if err != nil {
		return "", nil, err
	}
	var out []string
	for id, rel := range images {
		isTrain, ok := training[id]
		if !ok {
			return "", nil, fmt.Errorf("read %s: image %d (%s) has no split", splitFile, id, rel)
		}
		if l.All || !isTrain {
			out = append(out, rel)
		}
	}
	if len(out) == 0 {
		return "", nil, fmt.Errorf("list CUB images under %s: %w", p, ErrNoImages)
	}
	slices.Sort(out)
	return filepath.Join(p, "images"), out, nil
}

// parseCUBImages reads images.txt: "ID RELATIVE/PATH.jpg" per line.
func parseCUBImages(r io.Reader, name string) (map[int]string, error) {
	out := map[int]string{}
	err := eachLine(r, name, func(line int, fields []string) error {
		if len(fields) != 2 {
			return fmt.Errorf("want \"ID PATH\", got %d fields", len(fields))
		}
		id, err := strconv.Atoi(fields[0])
		if err != nil {
			return fmt.Errorf("image id %q: %w", fields[0], err)
		}
		rel, err := cleanRelative(fields[1])
		if err != nil {
			return err
		}
		if _, dup := out[id]; dup {
			return fmt.Errorf("image id %d repeated", id)
		}
		out[id] = rel
		return nil
	})
	return out, err
}

// parseCUBSplit reads train_test_split.txt: "ID 1" for training images,
// "ID 0" for test images.
func parseCUBSplit(r io.Reader, name string) (map[int]bool, error) {
	out := map[int]bool{}
	err := eachLine(r, name, func(line int, fields []string) error {
		if len(fields) != 2 || (fields[1] != "0" && fields[1] != "1") {
			return fmt.Errorf("want \"ID 0|1\", got %q", strings.Join(fields, " "))
		}
		id, err := strconv.Atoi(fields[0])
		if err != nil {
			return fmt.Errorf("image id %q: %w", fields[0], err)
		}
		out[id] = fields[1] == "1"
		return nil
	})
	return out, err
}

// Places365Layout is the Places365 validation set: the val_256 (or
// val_large) folder of images, or a file list such as places365_val.txt
// ("NAME [LABEL]" per line) whose names are resolved against the list's
// folder, or its val_256 or val_large sub-folder, whichever holds the first.
type Places365Layout struct{}

// List implements Layout.
func (Places365Layout) List(p string) (string, []string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return "", nil, fmt.Errorf("open Places365 test set: %w", err)
	}
	if fi.IsDir() {
		return FolderLayout{}.List(p)
	}
	f, err := os.Open(p)
	if err != nil {
		return "", nil, fmt.Errorf("open Places365 file list: %w", err)
	}
	defer f.Close()
	names, err := parseFileList(f, p)
	if err != nil {
		return "", nil, err
	}
	if len(names) == 0 {
		return "", nil, fmt.Errorf("read Places365 file list %s: %w", p, ErrNoImages)
	}
	dir := filepath.Dir(p)
	root := dir
	for _, cand := range []string{dir, filepath.Join(dir, "val_256"), filepath.Join(dir, "val_large")} {
		if exists(filepath.Join(cand, filepath.FromSlash(names[0]))) {
			root = cand
			break
		}
	}
	slices.Sort(names)
	return root, slices.Compact(names), nil
}

// parseFileList reads "NAME [LABEL...]" lines; a leading slash on NAME is
// dropped (Places365 lists are rooted at the data folder).
func parseFileList(r io.Reader, name string) ([]string, error) {
	var out []string
	err := eachLine(r, name, func(line int, fields []string) error {
		rel, err := cleanRelative(strings.TrimLeft(fields[0], "/"))
		if err != nil {
			return err
		}
		out = append(out, rel)
		return nil
	})
	return out, err
}

// cleanRelative checks that p is a relative path that stays inside its
// root and returns it cleaned, slash-separated.
func cleanRelative(p string) (string, error) {
	c := path.Clean(filepath.ToSlash(p))
	if c == "." || path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("path %q leaves the test-set folder", p)
	}
	return c, nil
}

// eachLine calls fn with the whitespace-separated fields of every
// non-blank line, wrapping its errors with the file name and line number.
func eachLine(r io.Reader, name string, fn func(line int, fields []string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if err := fn(n, fields); err != nil {
			return fmt.Errorf("read %s line %d: %w", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s line %d: %w", name, n+1, err)
	}
	return nil
}
