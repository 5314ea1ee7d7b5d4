package torch

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// VersionError is a shim built against another libtorch than the one found
// where it runs. The fix is to rebuild the shim there (`make torch`, with
// TORCH_DIR for a PyTorch install).
type VersionError struct {
	Shim    string // the shim's path
	Built   string // the libtorch version it was built against
	Found   string // the libtorch version found; "" when none was
	FoundAt string // the file that version was read from, or the directories searched
	Err     error  // the dynamic loader's error, when the shim did not load
}

func (e *VersionError) Error() string {
	found := "no libtorch was found (searched " + e.FoundAt + ")"
	if e.Found != "" {
		found = "the libtorch here is " + e.Found
		if e.FoundAt != "" {
			found += " (" + e.FoundAt + ")"
		}
	}
	s := fmt.Sprintf("%s was built against libtorch %s, but %s", e.Shim, e.Built, found)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *VersionError) Unwrap() error { return e.Err }

// BuildSection is the ELF section in which the shim records what it was
// built against ("libtorch=2.6.0 abi=4"), readable without loading it.
const BuildSection = ".weaksup_torch"

// shimBuild reads the libtorch version and ABI a shim file was built with.
func shimBuild(path string) (torch string, abi string, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sec := f.Section(BuildSection)
	if sec == nil {
		return "", "", fmt.Errorf("%s has no %s section (a shim from before it was added)", path, BuildSection)
	}
	data, err := sec.Data()
	if err != nil {
		return "", "", fmt.Errorf("read section %s of %s: %w", BuildSection, path, err)
	}
	s, _, _ := strings.Cut(string(data), "\x00")
	for _, field := range strings.Fields(s) {
		k, v, _ := strings.Cut(field, "=")
		switch k {
		case "libtorch":
			torch = v
		case "abi":
			abi = v
		}
	}
	if torch == "" {
		return "", "", fmt.Errorf("section %s of %s names no libtorch version: %q", BuildSection, path, s)
	}
	return torch, abi, nil
}

// explainLoadFailure turns the loader's error for a shim that did not load
// into a *VersionError when the shim was built against another libtorch
// than the one the dynamic linker finds here; otherwise it returns err.
func explainLoadFailure(path string, err error) error {
	built, _, berr := shimBuild(path)
	if berr != nil {
		return err
	}
	found, at := findTorch(path)
	if found != "" && sameVersion(built, found) {
		return err
	}
	return &VersionError{Shim: path, Built: built, Found: found, FoundAt: at, Err: err}
}

// findTorch finds the libtorch the dynamic linker would give the shim at
// path, or failing that any libtorch in its search path, and its version:
// the shim's run path, $LD_LIBRARY_PATH, /etc/ld.so.conf's directories and
// the default ones.
func findTorch(path string) (version, file string) {
	need := "libtorch_cpu.so"
	var dirs []string
	if f, err := elf.Open(path); err == nil {
		if libs, err := f.ImportedLibraries(); err == nil {
			for _, l := range libs {
				if strings.HasPrefix(l, "libtorch_cpu.so") {
					need = l
				}
			}
		}
		for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
			if vals, err := f.DynString(tag); err == nil {
				for _, v := range vals {
					for _, d := range filepath.SplitList(v) {
						dirs = append(dirs, strings.ReplaceAll(d, "$ORIGIN", filepath.Dir(path)))
					}
				}
			}
		}
		f.Close()
	}
	dirs = append(dirs, filepath.SplitList(os.Getenv("LD_LIBRARY_PATH"))...)
	dirs = append(dirs, ldConfDirs("/etc/ld.so.conf", 0)...)
	dirs = append(dirs, "/lib/"+multiarch(), "/usr/lib/"+multiarch(), "/lib64", "/usr/lib64", "/lib", "/usr/lib")
	// The file the linker would load, then any other libtorch.
	for _, pattern := range []string{need, "libtorch_cpu.so*"} {
		for _, d := range dirs {
			if d == "" {
				continue
			}
			matches, _ := filepath.Glob(filepath.Join(d, pattern))
			for _, m := range matches {
				if v := torchFileVersion(m); v != "" {
					if real, err := filepath.EvalSymlinks(m); err == nil {
						m = real
					}
					return v, m
				}
			}
		}
	}
	return "", strings.Join(compact(dirs), ", ")
}

// torchFileVersion is the libtorch version of a libtorch_cpu file: the
// suffix of its real name (Debian: libtorch_cpu.so.1.13.0), or the version
// of the PyTorch install it belongs to (torch/lib/../version.py).
func torchFileVersion(file string) string {
	real, err := filepath.EvalSymlinks(file)
	if err != nil {
		return ""
	}
	if _, suffix, ok := strings.Cut(filepath.Base(real), ".so."); ok && suffix != "" {
		return suffix
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(real), "..", "version.py"))
	if err != nil {
		return "unknown"
	}
	if m := regexp.MustCompile(`(?m)^__version__\s*=\s*['"]([^'"]+)['"]`).FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return "unknown"
}

// sameVersion reports whether two libtorch versions name the same release:
// equal major, minor and (where both give one) patch numbers; a local
// suffix ("+cu124") does not count.
func sameVersion(a, b string) bool {
	pa, pb := versionParts(a), versionParts(b)
	if len(pa) < 2 || len(pb) < 2 {
		return a == b
	}
	n := min(len(pa), len(pb), 3)
	for i := range n {
		if pa[i] != pb[i] {
			return false
		}
	}
	return true
}

func versionParts(v string) []string {
	v, _, _ = strings.Cut(v, "+")
	return strings.Split(v, ".")
}

// ldConfDirs reads the directories of an ld.so.conf file and the files it
// includes.
func ldConfDirs(file string, depth int) []string {
	b, err := os.ReadFile(file)
	if err != nil || depth > 4 {
		return nil
	}
	var dirs []string
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "include "); ok {
			pattern := strings.TrimSpace(rest)
			if !filepath.IsAbs(pattern) {
				pattern = filepath.Join(filepath.Dir(file), pattern)
			}
			matches, _ := filepath.Glob(pattern)
			for _, m := range matches {
				dirs = append(dirs, ldConfDirs(m, depth+1)...)
			}
		} else if line != "" {
			dirs = append(dirs, line)
		}
	}
	return dirs
}

func multiarch() string {
	switch runtime.GOARCH {
	case "arm64":
		return "aarch64-linux-gnu"
	case "ppc64le":
		return "powerpc64le-linux-gnu"
	}
	return "x86_64-linux-gnu"
}

func compact(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
