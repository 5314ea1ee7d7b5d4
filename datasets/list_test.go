package datasets

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeFiles creates files (path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestListers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    map[string]string
		path     string // relative to the temp dir
		layout   string
		split    string
		wantRoot string // relative to the temp dir
		want     []string
		err      error
	}{
		{
			name:  "imagenet flat",
			files: map[string]string{"val/ILSVRC2012_val_00000001.JPEG": "x", "val/ILSVRC2012_val_00000002.JPEG": "x", "val/LOC_val.csv": "x", "val/.hidden.JPEG": "x"},
			path:  "val", layout: ImageNet, wantRoot: "val",
			want: []string{"ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000002.JPEG"},
		},
		{
			name:  "imagenet class folders",
			files: map[string]string{"val/n01440764/ILSVRC2012_val_00000293.JPEG": "x", "val/n01443537/ILSVRC2012_val_00000236.JPEG": "x", "val/n01443537/deeper/x.JPEG": "x"},
			path:  "val", layout: ImageNet, wantRoot: "val",
			want: []string{"n01440764/ILSVRC2012_val_00000293.JPEG", "n01443537/ILSVRC2012_val_00000236.JPEG"},
		},
		{
			name: "cub test split detected",
			files: map[string]string{
				"CUB/images.txt":           "1 001.Black_footed_Albatross/a_1.jpg\n2 001.Black_footed_Albatross/a_2.jpg\n\n3 002.Laysan_Albatross/b_3.jpg\n",
				"CUB/train_test_split.txt": "1 1\n2 0\n3 0\n",
			},
			path: "CUB", layout: LayoutAuto, split: ListTest, wantRoot: "CUB/images",
			want: []string{"001.Black_footed_Albatross/a_2.jpg", "002.Laysan_Albatross/b_3.jpg"},
		},
		{
			name: "cub all",
			files: map[string]string{
				"CUB/images.txt":           "1 001.Black_footed_Albatross/a_1.jpg\n2 001.Black_footed_Albatross/a_2.jpg\n",
				"CUB/train_test_split.txt": "1 1\n2 0\n",
			},
			path: "CUB", layout: CUB, split: ListAll, wantRoot: "CUB/images",
			want: []string{"001.Black_footed_Albatross/a_1.jpg", "001.Black_footed_Albatross/a_2.jpg"},
		},
		{
			name: "cub missing split",
			files: map[string]string{
				"CUB/images.txt":           "1 a/1.jpg\n2 a/2.jpg\n",
				"CUB/train_test_split.txt": "1 1\n",
			},
			path: "CUB", layout: CUB, split: ListTest, err: os.ErrNotExist,
		},
		{
			name: "cub escaping path",
			files: map[string]string{
				"CUB/images.txt":           "1 ../../etc/passwd\n",
				"CUB/train_test_split.txt": "1 0\n",
			},
			path: "CUB", layout: CUB, split: ListTest, err: os.ErrNotExist,
		},
		{
			name:  "places365 folder",
			files: map[string]string{"val_256/Places365_val_00000002.jpg": "x", "val_256/Places365_val_00000001.jpg": "x"},
			path:  "val_256", layout: Places365, wantRoot: "val_256",
			want: []string{"Places365_val_00000001.jpg", "Places365_val_00000002.jpg"},
		},
		{
			name: "places365 file list beside val_256",
			files: map[string]string{
				"places365_val.txt":                  "Places365_val_00000001.jpg 165\nPlaces365_val_00000002.jpg 358\n",
				"val_256/Places365_val_00000001.jpg": "x",
				"val_256/Places365_val_00000002.jpg": "x",
			},
			path: "places365_val.txt", layout: LayoutAuto, wantRoot: "val_256",
			want: []string{"Places365_val_00000001.jpg", "Places365_val_00000002.jpg"},
		},
		{
			name: "places365 rooted list",
			files: map[string]string{
				"data/list.txt":             "/a/abbey/00000001.jpg 0\n/a/abbey/00000001.jpg 0\n",
				"data/a/abbey/00000001.jpg": "x",
			},
			path: "data/list.txt", layout: Places365, wantRoot: "data",
			want: []string{"a/abbey/00000001.jpg"},
		},
		{
			name:  "image folder recursive",
			files: map[string]string{"set/cat/1.png": "x", "set/dog/sub/2.JPG": "x", "set/bird/3.webp": "x", "set/readme.txt": "x", "set/.git/x.jpg": "x"},
			path:  "set", layout: LayoutAuto, wantRoot: "set",
			want: []string{"bird/3.webp", "cat/1.png", "dog/sub/2.JPG"},
		},
		{
			name:  "empty folder",
			files: map[string]string{"empty/readme.txt": "x"},
			path:  "empty", layout: ImageFolder, err: ErrNoImages,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			split := tc.split
			if split == "" {
				split = ListTest
			}
			path := filepath.Join(dir, tc.path)
			l, _, err := ListerFor(path, tc.layout, split)
			if err != nil {
				t.Fatal(err)
			}
			root, got, err := l.List(path)
			if tc.err != nil {
				if err == nil {
					t.Fatalf("List = %v, want an error", got)
				}
				if tc.err != os.ErrNotExist && !errors.Is(err, tc.err) {
					t.Fatalf("List error = %v, want %v", err, tc.err)
				}
				var le *LayoutError
				if !errors.As(err, &le) {
					t.Errorf("List error %v is not a *LayoutError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, tc.wantRoot); root != want {
				t.Errorf("root = %s, want %s", root, want)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("images = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestListersFollowLinks lists folders made of symbolic links, as dataset
// folders often are.
func TestListersFollowLinks(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"real/n01/a.JPEG": "x", "real/b.JPEG": "x"})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "linked"), 0o755))
	must(os.Symlink(filepath.Join(dir, "real", "n01"), filepath.Join(dir, "linked", "n01")))
	must(os.Symlink(filepath.Join(dir, "real", "b.JPEG"), filepath.Join(dir, "linked", "b.JPEG")))
	must(os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "root-link")))
	for _, tc := range []struct {
		lister Lister
		path   string
		want   []string
	}{
		{ImageNetVal{}, "linked", []string{"b.JPEG", "n01/a.JPEG"}},
		{Folder{}, "linked", []string{"b.JPEG"}}, // linked folders are not followed
		{Folder{}, "root-link", []string{"b.JPEG", "n01/a.JPEG"}},
	} {
		_, got, err := tc.lister.List(filepath.Join(dir, tc.path))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%T.List(%s) = %q, want %q", tc.lister, tc.path, got, tc.want)
		}
	}
}

func TestListerForErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := ListerFor(filepath.Join(dir, "missing"), LayoutAuto, ListTest); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: error = %v, want not exist", err)
	}
	if _, _, err := ListerFor(dir, "coco", ListTest); !errors.Is(err, ErrUnknownLayout) {
		t.Errorf("unknown layout: error = %v, want ErrUnknownLayout", err)
	}
	if _, _, err := ListerFor(dir, CUB, "train"); err == nil {
		t.Errorf("split train: no error, want one")
	}
}

// TestListerForNames: a test set's layout has the name --task gives it,
// whether it is given, detected, or given in its former spelling.
func TestListerForNames(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"set/a/1.jpg": "x", "CUB/images.txt": "1 a/1.jpg\n", "CUB/train_test_split.txt": "1 0\n", "list.txt": "a.jpg 0\n"})
	for _, tc := range []struct{ path, layout, want string }{
		{"set", LayoutAuto, ImageFolder},
		{"set", "", ImageFolder},
		{"set", "folder", ImageFolder},
		{"set", ImageFolder, ImageFolder},
		{"set", ImageNet, ImageNet},
		{"CUB", LayoutAuto, CUB},
		{"list.txt", LayoutAuto, Places365},
	} {
		_, got, err := ListerFor(filepath.Join(dir, tc.path), tc.layout, ListTest)
		if err != nil || got != tc.want {
			t.Errorf("ListerFor(%s, %q) = %q, %v; want %q", tc.path, tc.layout, got, err, tc.want)
		}
	}
	if got, want := ListedLayouts(), []string{ImageNet, CUB, Places365, ImageFolder}; !slices.Equal(got, want) {
		t.Errorf("ListedLayouts() = %q, want %q", got, want)
	}
}

// TestCUBListingErrorsNameLine: the unlabelled CUB listing reads the same
// files as the labelled dataset and names the file and line it stops at.
func TestCUBListingErrorsNameLine(t *testing.T) {
	for _, tc := range []struct {
		images, split, wantFile string
	}{
		{"1 a.jpg\nnot-a-number b.jpg\n", "1 1\n2 0\n", cubImages},
		{"1 a.jpg\n2 b.jpg\n", "1 1\n2 yes\n", cubSplit},
	} {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{cubImages: tc.images, cubSplit: tc.split})
		_, _, err := CUBImages{}.List(dir)
		var le *LayoutError
		if !errors.As(err, &le) || le.Path != filepath.Join(dir, tc.wantFile) || le.Line != 2 {
			t.Errorf("List error = %v, want a *LayoutError at %s line 2", err, tc.wantFile)
		}
	}
}

func FuzzCUBListing(f *testing.F) {
	f.Add("1 001.A/a.jpg\n2 002.B/b.jpg\n", "1 1\n2 0\n")
	f.Add("1 ../x\n", "1 2\n")
	f.Fuzz(func(t *testing.T, images, split string) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{cubImages: images, cubSplit: split})
		_, got, err := CUBImages{All: true}.List(dir)
		if err != nil {
			return
		}
		for _, p := range got {
			if _, err := cleanRelative(p); err != nil || strings.HasPrefix(p, "/") {
				t.Fatalf("path %q escapes the root", p)
			}
		}
	})
}

func FuzzPlacesList(f *testing.F) {
	f.Add("Places365_val_00000001.jpg 165\n/a/abbey/00000001.jpg 0\n")
	f.Add("../../x 1\n")
	f.Fuzz(func(t *testing.T, list string) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"list.txt": list})
		_, names, err := Places365Val{}.List(filepath.Join(dir, "list.txt"))
		if err != nil {
			return
		}
		for _, n := range names {
			if n == "" || strings.HasPrefix(n, "/") || n == ".." || strings.HasPrefix(n, "../") {
				t.Fatalf("name %q escapes the root", n)
			}
		}
	})
}
