package dedup

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"weaksup/datasets"
)

// ErrBadSpec is wrapped by errors about a test-set specification.
var ErrBadSpec = errors.New("want NAME=PATH[:LAYOUT]")

// Spec names one test set on the command line: NAME=PATH[:LAYOUT], where
// LAYOUT is one of datasets.ListedLayouts or datasets.LayoutAuto (detect
// it from the path).
type Spec struct {
	Name string `json:"name"`
	Path string `json:"path"`
	// Layout keeps the key "format", its name in stage records written
	// before layouts had one name, so those records stay current.
	Layout string `json:"format"`
}

func (s Spec) String() string { return s.Name + "=" + s.Path + ":" + s.Layout }

// parseSpec parses NAME=PATH[:LAYOUT]. A trailing :LAYOUT is taken only
// when it names a layout, so paths may contain colons. A layout given in
// its former spelling (datasets.FormerLayoutNames) is replaced by its name,
// and former returns the spelling given, for a note.
func parseSpec(s string) (spec Spec, former string, err error) {
	name, p, ok := strings.Cut(s, "=")
	if !ok || name == "" || p == "" {
		return Spec{}, "", fmt.Errorf("parse test set %q: %w", s, ErrBadSpec)
	}
	if !validName(name) {
		return Spec{}, "", fmt.Errorf("parse test set %q: name %q may hold only letters, digits, '-', '_' and '.': %w", s, name, ErrBadSpec)
	}
	spec = Spec{Name: name, Path: p, Layout: datasets.LayoutAuto}
	if i := strings.LastIndex(p, ":"); i >= 0 {
		layout := p[i+1:]
		if n, ok := datasets.FormerLayoutNames[layout]; ok {
			former, layout = layout, n
		}
		switch {
		case layout == datasets.LayoutAuto || slices.Contains(datasets.ListedLayouts(), layout):
			spec.Path, spec.Layout = p[:i], layout
		case slices.Contains(datasets.Layouts, layout):
			return Spec{}, "", fmt.Errorf("parse test set %q: layout %s keeps its images in binary batches, which dedup cannot list (want one of %s, %s): %w",
				s, layout, datasets.LayoutAuto, strings.Join(datasets.ListedLayouts(), ", "), ErrBadSpec)
		}
	}
	if spec.Path == "" {
		return Spec{}, "", fmt.Errorf("parse test set %q: empty path: %w", s, ErrBadSpec)
	}
	return spec, former, nil
}

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return s != "." && s != ".."
}
