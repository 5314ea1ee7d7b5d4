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
// system paths.
func Load() error {
	lib.once.Do(func() { lib.path, lib.err = load() })
	return lib.err
}

// LibraryPath returns the path the shim was loaded from, or "" before a
// successful Load.
func LibraryPath() string {
	if Load() != nil {
		return ""
	}
	return lib.path
}

func load() (string, error) {
	if p := os.Getenv(EnvLibrary); p != "" {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			p = filepath.Join(p, LibraryName)
		}
		if err := dlopen(p); err != nil {
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
		if err := dlopen(p); err != nil {
			// An existing file that does not load (libtorch missing, ABI
			// mismatch) is reported as is: a later candidate would hide it.
			return "", &LoadError{Tried: append(tried, p), Err: err}
		}
		return p, nil
	}
	if err := dlopen(LibraryName); err == nil {
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

func dlopen(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr *C.char
	if C.wtg_load(cpath, &cerr) != 0 {
		msg := C.GoString(cerr)
		C.free(unsafe.Pointer(cerr))
		return errors.New(msg)
	}
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

// Version reports the libtorch version the shim was built against and
// whether it has CUDA, e.g. "libtorch 1.13.0 cuda=0".
func Version() (string, error) {
	if err := Load(); err != nil {
		return "", err
	}
	var out, e *C.char
	if C.wtg_version(&out, &e) != 0 {
		return "", cError("version", e)
	}
	s := C.GoString(out)
	C.wtg_string_free(out)
	return s, nil
}
