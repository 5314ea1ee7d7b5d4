package dedup

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"weaksup/datasets"
)

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   Spec
		former string
		err    bool
	}{
		{"imagenet=/data/imagenet/val", Spec{"imagenet", "/data/imagenet/val", datasets.LayoutAuto}, "", false},
		{"in=/data/val:imagenet", Spec{"in", "/data/val", datasets.ImageNet}, "", false},
		{"cub=/data/CUB_200_2011:cub", Spec{"cub", "/data/CUB_200_2011", datasets.CUB}, "", false},
		{"p=/d/places365_val.txt:places365", Spec{"p", "/d/places365_val.txt", datasets.Places365}, "", false},
		{"x=C:/data:imagefolder", Spec{"x", "C:/data", datasets.ImageFolder}, "", false},
		{"x=C:/data:folder", Spec{"x", "C:/data", datasets.ImageFolder}, "folder", false},
		{"x=/a:auto", Spec{"x", "/a", datasets.LayoutAuto}, "", false},
		{"x=/a:b/c", Spec{"x", "/a:b/c", datasets.LayoutAuto}, "", false},
		{"x=/a/b:notalayout", Spec{"x", "/a/b:notalayout", datasets.LayoutAuto}, "", false},
		{"x=/data/cifar:cifar10", Spec{}, "", true}, // its images are not files
		{"=/a", Spec{}, "", true},
		{"x=", Spec{}, "", true},
		{"x", Spec{}, "", true},
		{"x=:cub", Spec{}, "", true},
		{"a/b=/data", Spec{}, "", true},
		{"..=/data", Spec{}, "", true},
	} {
		got, former, err := parseSpec(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("parseSpec(%q) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if got != tc.want || former != tc.former {
			t.Errorf("parseSpec(%q) = %+v, former %q; want %+v, former %q", tc.in, got, former, tc.want, tc.former)
		}
	}
}

// TestTestsetFlagNotesFormerLayoutName: the former spelling of a layout is
// taken, with a note on the flag set's output saying the name.
func TestTestsetFlagNotesFormerLayoutName(t *testing.T) {
	for _, tc := range []struct{ arg, note string }{
		{"x=/data/set:folder", `layout "folder" is now called "imagefolder"`},
		{"x=/data/set:imagefolder", ""},
	} {
		var cfg Config
		var out strings.Builder
		fs := flag.NewFlagSet("dedup", flag.ContinueOnError)
		fs.SetOutput(&out)
		cfg.RegisterFlags(fs)
		if err := fs.Parse([]string{"--testset", tc.arg}); err != nil {
			t.Fatal(err)
		}
		if want := (Spec{"x", "/data/set", datasets.ImageFolder}); len(cfg.TestSets) != 1 || cfg.TestSets[0] != want {
			t.Errorf("--testset %s: test sets %+v, want [%+v]", tc.arg, cfg.TestSets, want)
		}
		if tc.note == "" && out.Len() > 0 || !strings.Contains(out.String(), tc.note) {
			t.Errorf("--testset %s: output %q, want %q", tc.arg, out.String(), tc.note)
		}
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"imagenet=/data/val", "cub=/d:cub", "x=/a:b:folder", "=", "a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, _, err := parseSpec(s)
		if err != nil {
			return
		}
		if spec.Name == "" || spec.Path == "" || spec.Layout != datasets.LayoutAuto && !slices.Contains(datasets.ListedLayouts(), spec.Layout) {
			t.Fatalf("parseSpec(%q) = %+v, an incomplete spec without error", s, spec)
		}
		again, _, err := parseSpec(spec.String())
		if err != nil || again != spec {
			t.Fatalf("parseSpec(%q) = %+v, which does not round-trip: %+v, %v", s, spec, again, err)
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
