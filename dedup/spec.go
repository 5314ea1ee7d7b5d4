package dedup

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"weaksup/datasets"
)

// ErrBadSpec is wrapped by errors about a test-set specification.
var ErrBadSpec = errors.New("want NAME=PATH[:FORMAT]")

// Spec names one test set on the command line: NAME=PATH[:FORMAT], where
// FORMAT is one of datasets.Formats (datasets.FormatAuto detects it).
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
	spec := Spec{Name: name, Path: p, Format: datasets.FormatAuto}
	if i := strings.LastIndex(p, ":"); i >= 0 && slices.Contains(datasets.Formats, p[i+1:]) {
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

// listImages lists the images of a test set through its datasets.Lister;
// split (datasets.ListTest or datasets.ListAll) applies to CUB-200-2011.
// It returns the resolved format, the folder the images are relative to
// and their slash-separated paths.
func listImages(spec Spec, split string) (format, root string, images []string, err error) {
	l, format, err := datasets.ListerFor(spec.Path, spec.Format, split)
	if err != nil {
		return "", "", nil, fmt.Errorf("test set %s: %w", spec.Name, err)
	}
	root, images, err = l.List(spec.Path)
	if err != nil {
		return "", "", nil, fmt.Errorf("test set %s: %w", spec.Name, err)
	}
	return format, root, images, nil
}
