package dedup

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"weaksup/datasets"
)

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Spec
		err  bool
	}{
		{"imagenet=/data/imagenet/val", Spec{"imagenet", "/data/imagenet/val", datasets.FormatAuto}, false},
		{"in=/data/val:imagenet", Spec{"in", "/data/val", datasets.FormatImageNet}, false},
		{"cub=/data/CUB_200_2011:cub", Spec{"cub", "/data/CUB_200_2011", datasets.FormatCUB}, false},
		{"p=/d/places365_val.txt:places365", Spec{"p", "/d/places365_val.txt", datasets.FormatPlaces365}, false},
		{"x=C:/data:folder", Spec{"x", "C:/data", datasets.FormatFolder}, false},
		{"x=/a:b/c", Spec{"x", "/a:b/c", datasets.FormatAuto}, false},
		{"x=/a/b:notaformat", Spec{"x", "/a/b:notaformat", datasets.FormatAuto}, false},
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

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"imagenet=/data/val", "cub=/d:cub", "x=/a:b:folder", "=", "a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := ParseSpec(s)
		if err != nil {
			return
		}
		if spec.Name == "" || spec.Path == "" || !slices.Contains(datasets.Formats, spec.Format) {
			t.Fatalf("ParseSpec(%q) = %+v, an incomplete spec without error", s, spec)
		}
		again, err := ParseSpec(spec.String())
		if err != nil || again != spec {
			t.Fatalf("ParseSpec(%q) = %+v, which does not round-trip: %+v, %v", s, spec, again, err)
		}
	})
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
