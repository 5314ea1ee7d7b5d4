package torch

/*
#cgo CFLAGS: -I${SRCDIR}/csrc -O2
#cgo LDFLAGS: -ldl
#include "bridge.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"
)

// LibraryName is the file name of the shim that Load looks for.
const LibraryName = "libweaksup_torch.so"

// BuildCommand is the command that builds the shim from the repository root.
const BuildCommand = "make torch"

// EnvLibrary names an environment variable holding the path of the shim (or
// of the directory that holds it); it comes first in the search order.
const EnvLibrary = "WEAKSUP_TORCH_LIB"

// ErrLibraryNotFound is wrapped by the error of Load (and of every call that
// needs the library) when no candidate could be loaded.
var ErrLibraryNotFound = errors.New("libweaksup_torch.so not found")

// Error is an error reported by libtorch through the shim.
type Error struct {
	Op  string // the binding call, e.g. "conv2d"
	Msg string // libtorch's message
}

func (e *Error) Error() string { return "torch " + e.Op + ": " + e.Msg }

// LoadError says why the shim could not be loaded and what was tried.
type LoadError struct {
	Tried []string // candidates in search order, each with the reason it failed
	Err   error    // ErrLibraryNotFound, or the dlopen error of an explicit path
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("load %s: %v (tried %s); build it with `%s` or set %s",
		LibraryName, e.Err, strings.Join(e.Tried, "; "), BuildCommand, EnvLibrary)
}

func (e *LoadError) Unwrap() error { return e.Err }

var lib struct {
	once sync.Once
	err  error
	path string
}

// Load finds and loads the shim once; later calls return the first result.
// Every other function of the package calls it, so calling it directly is
// only needed to report a missing library early. The search order is
// $WEAKSUP_TORCH_LIB, the directory of the executable, build/lib under the
// working directory and each of its parents, then the dynamic linker's
// system paths. A shim built against another libtorch than the one it finds
// is refused with a *VersionError naming both.
func Load() error {
	lib.once.Do(func() { lib.path, lib.err = load() })
	return lib.err
}

func load() (string, error) {
	if p := os.Getenv(EnvLibrary); p != "" {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			p = filepath.Join(p, LibraryName)
		}
		if err := open(p); err != nil {
			return "", &LoadError{Tried: []string{EnvLibrary + "=" + p}, Err: err}
		}
		return p, nil
	}
	var tried []string
	for _, p := range candidates() {
		if _, err := os.Stat(p); err != nil {
			tried = append(tried, p+": missing")
			continue
		}
		if err := open(p); err != nil {
			// An existing file that does not load (libtorch missing, ABI
			// mismatch) is reported as is: a later candidate would hide it.
			return "", &LoadError{Tried: append(tried, p), Err: err}
		}
		return p, nil
	}
	if err := open(LibraryName); err == nil {
		return LibraryName, nil
	}
	tried = append(tried, "system library paths")
	return "", &LoadError{Tried: tried, Err: ErrLibraryNotFound}
}

func candidates() []string {
	var out []string
	if exe, err := os.Executable(); err == nil {
		out = append(out, filepath.Join(filepath.Dir(exe), LibraryName))
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			out = append(out, filepath.Join(dir, "build", "lib", LibraryName))
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return out
}

// ABIVersion is the version of the shim's C ABI this package was compiled
// against (WT_ABI_VERSION in torch/csrc/weaksup_torch.h). Load refuses a
// library built for another: its weaksup_torch_api answers only the version
// it was built with.
const ABIVersion = int(C.WT_ABI_VERSION)

// acceptsABI reports whether the loaded library hands out its table for
// ABI version v.
func acceptsABI(v int) bool { return C.wtg_accepts_abi(C.int(v)) != 0 }

// open loads the shim at path and puts it in use, unless it was built
// against another libtorch than the one it loaded (or, when it does not
// load at all, than the one the dynamic linker finds).
func open(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var api *C.wt_api
	var get unsafe.Pointer
	var cerr *C.char
	if C.wtg_open(cpath, &api, &get, &cerr) != 0 {
		msg := C.GoString(cerr)
		C.free(unsafe.Pointer(cerr))
		return explainLoadFailure(path, errors.New(msg))
	}
	var out *C.char
	if C.wtg_version_of(api, &out, &cerr) != 0 {
		msg := C.GoString(cerr)
		C.free(unsafe.Pointer(cerr))
		return fmt.Errorf("ask %s its libtorch version: %s", path, msg)
	}
	v := parseVersion(C.GoString(out))
	C.free(unsafe.Pointer(out))
	if v.Runtime != "" && !sameVersion(v.Torch, v.Runtime) {
		return &VersionError{Shim: path, Built: v.Torch, Found: v.Runtime, FoundAt: v.TorchLib}
	}
	C.wtg_use(api, get)
	return nil
}

// cError turns an error string from the shim into an *Error and frees it.
func cError(op string, e *C.char) error {
	if e == nil {
		return &Error{Op: op, Msg: "failed without a message"}
	}
	msg := C.GoString(e)
	C.wtg_string_free(e)
	return &Error{Op: op, Msg: msg}
}

// Info describes the loaded shim and the libtorch under it.
type Info struct {
	Path     string // the file the shim was loaded from
	ABI      int    // its C ABI version (ABIVersion)
	Torch    string // the libtorch version it was built against, e.g. "2.6.0"
	Runtime  string // the libtorch version it runs on, from libtorch's build settings
	TorchLib string // the file libtorch was loaded from
	CUDA     string // the CUDA runtime of a CUDA libtorch, e.g. "12.4"; "" for a CPU-only one
}

// Version describes the loaded shim: the libtorch it was built against and
// runs on, its CUDA, its ABI and where both were loaded from.
func Version() (Info, error) {
	if err := Load(); err != nil {
		return Info{}, err
	}
	var out, e *C.char
	if C.wtg_version(&out, &e) != 0 {
		return Info{}, cError("version", e)
	}
	v := parseVersion(C.GoString(out))
	C.wtg_string_free(out)
	v.Path = lib.path
	v.ABI = ABIVersion
	return v, nil
}

// parseVersion reads the shim's version string, "libtorch=2.6.0
// runtime=2.6.0 cuda=12.4 lib=/path" (lib last: a path may hold spaces).
// Fields a shim does not give stay empty.
func parseVersion(s string) Info {
	var v Info
	if old, ok := strings.CutPrefix(s, "libtorch "); ok {
		// A shim from before these fields: "libtorch 1.13.0 cuda=0".
		v.Torch, _, _ = strings.Cut(old, " ")
		return v
	}
	rest := s
	for rest != "" {
		field := rest
		if !strings.HasPrefix(rest, "lib=") {
			field, rest, _ = strings.Cut(rest, " ")
		} else {
			rest = ""
		}
		key, val, _ := strings.Cut(field, "=")
		switch key {
		case "libtorch":
			v.Torch = val
		case "runtime":
			v.Runtime = val
		case "cuda":
			v.CUDA = val
		case "lib":
			v.TorchLib = val
		}
	}
	return v
}
