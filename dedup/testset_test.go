package dedup

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Spec
		err  bool
	}{
		{"imagenet=/data/imagenet/val", Spec{"imagenet", "/data/imagenet/val", FormatAuto}, false},
		{"in=/data/val:imagenet", Spec{"in", "/data/val", FormatImageNet}, false},
		{"cub=/data/CUB_200_2011:cub", Spec{"cub", "/data/CUB_200_2011", FormatCUB}, false},
		{"p=/d/places365_val.txt:places365", Spec{"p", "/d/places365_val.txt", FormatPlaces365}, false},
		{"x=C:/data:folder", Spec{"x", "C:/data", FormatFolder}, false},
		{"x=/a:b/c", Spec{"x", "/a:b/c", FormatAuto}, false},
		{"x=/a/b:notaformat", Spec{"x", "/a/b:notaformat", FormatAuto}, false},
		{"=/a", Spec{}, true},
		{"x=", Spec{}, true},
		{"x", Spec{}, true},
		{"x=:cub", Spec{}, true},
		{"a/b=/data", Spec{}, true},
		{"..=/data", Spec{}, true},
	} {
		got, err := ParseSpec(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseSpec(%q) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseSpec(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// writeFiles creates files (path → content) under dir; content "photo:NAME"
// copies a test photograph.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		data := []byte(content)
		if name, ok := strings.CutPrefix(content, "photo:"); ok {
			var err error
			if data, err = os.ReadFile(filepath.Join("testdata", "photos", name)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLayouts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    map[string]string
		spec     string // PATH part relative to the temp dir, with :FORMAT
		split    string
		wantRoot string // relative to the temp dir
		want     []string
		err      error
	}{
		{
			name:  "imagenet flat",
			files: map[string]string{"val/ILSVRC2012_val_00000001.JPEG": "photo:Aqua.jpg", "val/ILSVRC2012_val_00000002.JPEG": "photo:Dune.jpg", "val/LOC_val.csv": "x", "val/.hidden.JPEG": "x"},
			spec:  "val:imagenet", wantRoot: "val",
			want: []string{"ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000002.JPEG"},
		},
		{
			name:  "imagenet class folders",
			files: map[string]string{"val/n01440764/ILSVRC2012_val_00000293.JPEG": "photo:Aqua.jpg", "val/n01443537/ILSVRC2012_val_00000236.JPEG": "photo:Dune.jpg", "val/n01443537/deeper/x.JPEG": "x"},
			spec:  "val:imagenet", wantRoot: "val",
			want: []string{"n01440764/ILSVRC2012_val_00000293.JPEG", "n01443537/ILSVRC2012_val_00000236.JPEG"},
		},
		{
			name: "cub test split detected",
			files: map[string]string{
				"CUB/images.txt":           "1 001.Black_footed_Albatross/a_1.jpg\n2 001.Black_footed_Albatross/a_2.jpg\n\n3 002.Laysan_Albatross/b_3.jpg\n",
				"CUB/train_test_split.txt": "1 1\n2 0\n3 0\n",
			},
			spec: "CUB", split: "test", wantRoot: "CUB/images",
			want: []string{"001.Black_footed_Albatross/a_2.jpg", "002.Laysan_Albatross/b_3.jpg"},
		},
		{
			name: "cub all",
			files: map[string]string{
				"CUB/images.txt":           "1 001.Black_footed_Albatross/a_1.jpg\n2 001.Black_footed_Albatross/a_2.jpg\n",
				"CUB/train_test_split.txt": "1 1\n2 0\n",
			},
			spec: "CUB:cub", split: "all", wantRoot: "CUB/images",
			want: []string{"001.Black_footed_Albatross/a_1.jpg", "001.Black_footed_Albatross/a_2.jpg"},
		},
		{
			name: "cub missing split",
			files: map[string]string{
				"CUB/images.txt":           "1 a/1.jpg\n2 a/2.jpg\n",
				"CUB/train_test_split.txt": "1 1\n",
			},
			spec: "CUB:cub", split: "test", err: os.ErrNotExist,
		},
		{
			name: "cub escaping path",
			files: map[string]string{
				"CUB/images.txt":           "1 ../../etc/passwd\n",
				"CUB/train_test_split.txt": "1 0\n",
			},
			spec: "CUB:cub", split: "test", err: os.ErrNotExist,
		},
		{
			name:  "places365 folder",
			files: map[string]string{"val_256/Places365_val_00000002.jpg": "photo:Aqua.jpg", "val_256/Places365_val_00000001.jpg": "photo:Dune.jpg"},
			spec:  "val_256:places365", wantRoot: "val_256",
			want: []string{"Places365_val_00000001.jpg", "Places365_val_00000002.jpg"},
		},
		{
			name: "places365 file list beside val_256",
			files: map[string]string{
				"places365_val.txt":                  "Places365_val_00000001.jpg 165\nPlaces365_val_00000002.jpg 358\n",
				"val_256/Places365_val_00000001.jpg": "photo:Aqua.jpg",
				"val_256/Places365_val_00000002.jpg": "photo:Dune.jpg",
			},
			spec: "places365_val.txt", wantRoot: "val_256",
			want: []string{"Places365_val_00000001.jpg", "Places365_val_00000002.jpg"},
		},
		{
			name: "places365 rooted list",
			files: map[string]string{
				"data/list.txt":             "/a/abbey/00000001.jpg 0\n/a/abbey/00000001.jpg 0\n",
				"data/a/abbey/00000001.jpg": "photo:Aqua.jpg",
			},
			spec: "data/list.txt:places365", wantRoot: "data",
			want: []string{"a/abbey/00000001.jpg"},
		},
		{
			name:  "image folder recursive",
			files: map[string]string{"set/cat/1.png": "x", "set/dog/sub/2.JPG": "x", "set/readme.txt": "x", "set/.git/x.jpg": "x"},
			spec:  "set", wantRoot: "set",
			want: []string{"cat/1.png", "dog/sub/2.JPG"},
		},
		{
			name:  "empty folder",
			files: map[string]string{"empty/readme.txt": "x"},
			spec:  "empty:folder", err: ErrNoImages,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			spec, err := ParseSpec("s=" + filepath.Join(dir, tc.spec))
			if err != nil {
				t.Fatal(err)
			}
			split := tc.split
			if split == "" {
				split = "test"
			}
			layout, _, err := LayoutFor(spec, split)
			if err != nil {
				t.Fatal(err)
			}
			root, got, err := layout.List(spec.Path)
			if tc.err != nil {
				if err == nil {
					t.Fatalf("List = %v, want an error", got)
				}
				if tc.err != os.ErrNotExist && !errors.Is(err, tc.err) {
					t.Fatalf("List error = %v, want %v", err, tc.err)
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

// TestLayoutsFollowLinks lists test sets made of symbolic links, as
// dataset folders often are.
func TestLayoutsFollowLinks(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"real/n01/a.JPEG": "photo:Aqua.jpg", "real/b.JPEG": "photo:Dune.jpg"})
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
		layout Layout
		path   string
		want   []string
	}{
		{ImageNetLayout{}, "linked", []string{"b.JPEG", "n01/a.JPEG"}},
		{FolderLayout{}, "linked", []string{"b.JPEG"}}, // linked folders are not followed
		{FolderLayout{}, "root-link", []string{"b.JPEG", "n01/a.JPEG"}},
	} {
		_, got, err := tc.layout.List(filepath.Join(dir, tc.path))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%T.List(%s) = %q, want %q", tc.layout, tc.path, got, tc.want)
		}
	}
}

func TestLayoutForErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LayoutFor(Spec{Name: "x", Path: filepath.Join(dir, "missing"), Format: FormatAuto}, "test"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: error = %v, want not exist", err)
	}
	if _, _, err := LayoutFor(Spec{Name: "x", Path: dir, Format: "coco"}, "test"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown format: error = %v, want ErrUnknownFormat", err)
	}
	if _, _, err := LayoutFor(Spec{Name: "x", Path: dir, Format: FormatCUB}, "train"); err == nil {
		t.Errorf("split train: no error, want one")
	}
}

func TestParseErrorsNameLine(t *testing.T) {
	_, err := parseCUBImages(strings.NewReader("1 a.jpg\nnot-a-number b.jpg\n"), "images.txt")
	if err == nil || !strings.Contains(err.Error(), "images.txt line 2") {
		t.Errorf("parseCUBImages error = %v, want it to name images.txt line 2", err)
	}
	_, err = parseCUBSplit(strings.NewReader("1 1\n2 yes\n"), "split.txt")
	if err == nil || !strings.Contains(err.Error(), "split.txt line 2") {
		t.Errorf("parseCUBSplit error = %v, want it to name split.txt line 2", err)
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"imagenet=/data/val", "cub=/d:cub", "x=/a:b:folder", "=", "a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := ParseSpec(s)
		if err != nil {
			return
		}
		if spec.Name == "" || spec.Path == "" || !slices.Contains(Formats, spec.Format) {
			t.Fatalf("ParseSpec(%q) = %+v, an incomplete spec without error", s, spec)
		}
		again, err := ParseSpec(spec.String())
		if err != nil || again != spec {
			t.Fatalf("ParseSpec(%q) = %+v, which does not round-trip: %+v, %v", s, spec, again, err)
		}
	})
}

func FuzzParseCUB(f *testing.F) {
	f.Add("1 001.A/a.jpg\n2 002.B/b.jpg\n", "1 1\n2 0\n")
	f.Add("1 ../x\n", "1 2\n")
	f.Fuzz(func(t *testing.T, images, split string) {
		ims, err := parseCUBImages(strings.NewReader(images), "images.txt")
		if err == nil {
			for id, p := range ims {
				if _, err := cleanRelative(p); err != nil || strings.HasPrefix(p, "/") {
					t.Fatalf("image %d path %q escapes the root", id, p)
				}
			}
		}
		_, _ = parseCUBSplit(strings.NewReader(split), "train_test_split.txt")
	})
}

func FuzzParseFileList(f *testing.F) {
	f.Add("Places365_val_00000001.jpg 165\n/a/abbey/00000001.jpg 0\n")
	f.Add("../../x 1\n")
	f.Fuzz(func(t *testing.T, list string) {
		names, err := parseFileList(strings.NewReader(list), "list.txt")
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
