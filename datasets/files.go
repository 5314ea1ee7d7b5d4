package datasets

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// ImageExts are the file extensions read as images, compared lower-case:
// every format some test set or image folder is distributed in that Go
// decodes. This package registers a decoder with package image for each
// (JPEG, PNG, GIF, BMP, TIFF, WebP), so whatever a layout lists, the
// loader and the perceptual hash can read.
var ImageExts = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}

// IsImage reports whether a file name has one of ImageExts.
func IsImage(name string) bool {
	return slices.Contains(ImageExts, strings.ToLower(path.Ext(name)))
}

// hidden reports whether a file or folder name is hidden (".git",
// "._x.jpg" resource forks); layouts skip them.
func hidden(name string) bool { return strings.HasPrefix(name, ".") }

// isImageEntry reports whether a directory entry is an image file, or a
// symbolic link to one.
func isImageEntry(full string, d fs.DirEntry) bool {
	if !IsImage(d.Name()) || hidden(d.Name()) {
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

// classFolders returns the sorted names of the folders (or links to
// folders) inside dir, hidden ones skipped.
func classFolders(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, &LayoutError{Path: dir, Msg: "read class folders", Err: err}
	}
	var names []string
	for _, e := range ents {
		if !hidden(e.Name()) && isDirEntry(filepath.Join(dir, e.Name()), e) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// hasSubdirs reports whether dir holds a class folder.
func hasSubdirs(dir string) bool {
	names, err := classFolders(dir)
	return err == nil && len(names) > 0
}

// imagesIn returns the sorted names of the image files directly inside dir.
func imagesIn(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, &LayoutError{Path: dir, Msg: "read image folder", Err: err}
	}
	var names []string
	for _, e := range ents {
		if isImageEntry(filepath.Join(dir, e.Name()), e) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// folderItems lists dir/<class>/<image> for classes named by folder,
// mapping each folder through index. A folder index does not know is an
// error naming it; so is a class folder with no images when requireImages.
func folderItems(dir string, index map[string]int, requireImages bool) (Files, error) {
	folders, err := classFolders(dir)
	if err != nil {
		return nil, err
	}
	if len(folders) == 0 {
		return nil, &LayoutError{Path: dir, Msg: "no class folders", Err: ErrNoImages}
	}
	var items Files
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
			return nil, &LayoutError{Path: filepath.Join(dir, f), Msg: "class folder holds no " + strings.Join(ImageExts, ", ") + " files", Err: ErrNoImages}
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
		if exists(c) {
			return c, nil
		}
	}
	return "", &LayoutError{Path: candidates[0], Msg: "missing " + what, Err: fs.ErrNotExist}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// checkFiles stats every item's file and returns an error naming the first
// missing one (in item order) and the listing that named it.
func checkFiles(items Files, listing string) error {
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

// cleanRelative checks that p, a path a listing file gives, is relative
// and stays inside its root, and returns it cleaned and slash-separated.
func cleanRelative(p string) (string, error) {
	c := path.Clean(filepath.ToSlash(p))
	if c == "." || path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("path %q leaves the dataset folder", p)
	}
	return c, nil
}
