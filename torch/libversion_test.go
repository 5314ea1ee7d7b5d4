package torch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestShimRecordsItsBuild: the loaded shim's file says, without being
// loaded, the libtorch it was built against and its ABI, as the loaded
// library does.
func TestShimRecordsItsBuild(t *testing.T) {
	needLib(t)
	v, err := Version()
	if err != nil {
		t.Fatal(err)
	}
	built, abi, err := shimBuild(v.Path)
	if err != nil {
		t.Fatal(err)
	}
	if built != v.Torch || abi != strconv.Itoa(ABIVersion) {
		t.Errorf("section %s of %s: libtorch %q abi %q, want %q and %d", BuildSection, v.Path, built, abi, v.Torch, ABIVersion)
	}
	if v.TorchLib == "" || torchFileVersion(v.TorchLib) == "" {
		t.Errorf("the shim names no libtorch file it runs on: %+v", v)
	}
}

// cc builds a shared library from C source in dir and returns its path.
func cc(t *testing.T, dir, name, src string, args ...string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatalf("these tests build stand-in libraries with gcc, the C compiler cgo uses: %v", err)
	}
	c := filepath.Join(dir, name+".c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command(gcc, append([]string{"-shared", "-fPIC", "-o", out, c}, args...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, b)
	}
	return out
}

// TestLoadNamesBothLibtorchVersions: a shim built against a libtorch this
// machine does not have (here 9.9, whose libtorch_cpu.so.9.9 the dynamic
// linker cannot find) is refused with an error that names the version it
// was built against and the libtorch that is here, which is the one the
// working shim runs on.
func TestLoadNamesBothLibtorchVersions(t *testing.T) {
	needLib(t)
	here, err := Version()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	stub := cc(t, dir, "libtorch_cpu.so.9.9", "int wt_stand_in;\n", "-Wl,-soname,libtorch_cpu.so.9.9")
	shimDir := filepath.Join(dir, "shim")
	if err := os.Mkdir(shimDir, 0o755); err != nil {
		t.Fatal(err)
	}
	shim := cc(t, shimDir, LibraryName, `__attribute__((used, section(".weaksup_torch"))) const char b[] = "libtorch=9.9.0 abi=3";
extern int wt_stand_in;
int wt_uses(void) { return wt_stand_in; }
`, stub)
	if err := os.Remove(stub); err != nil {
		t.Fatal(err)
	}

	err = open(shim)
	var verr *VersionError
	if !errors.As(err, &verr) {
		t.Fatalf("open %s: %v, want a *VersionError", shim, err)
	}
	if verr.Built != "9.9.0" || !sameVersion(verr.Found, here.Runtime) || verr.FoundAt == "" || verr.Err == nil {
		t.Errorf("VersionError %+v, want built 9.9.0, found %s (the libtorch here)", verr, here.Runtime)
	}
	msg := err.Error()
	t.Logf("the error: %s", msg)
	for _, want := range []string{shim, "built against libtorch 9.9.0", "the libtorch here is " + verr.Found, "libtorch_cpu.so.9.9"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if now, err := Version(); err != nil || now.Path != here.Path {
		t.Errorf("after refusing a shim, the one in use is %+v, %v; want %s", now, err, here.Path)
	}
}

// TestLoadRefusesShimOnAnotherLibtorch: a shim that loads, but reports
// that the libtorch it runs on is another release than the one it was
// built against (as a PyTorch upgraded in place gives), is refused with
// both versions, and the shim in use stays in use.
func TestLoadRefusesShimOnAnotherLibtorch(t *testing.T) {
	needLib(t)
	here, err := Version()
	if err != nil {
		t.Fatal(err)
	}
	src, err := filepath.Abs("csrc")
	if err != nil {
		t.Fatal(err)
	}
	shim := cc(t, t.TempDir(), LibraryName, `#include <stdlib.h>
#include <string.h>
#include "weaksup_torch.h"
static wt_api api;
static int version(char **out, char **err) {
	*out = strdup("libtorch=2.6.0 runtime=2.7.1 cuda= lib=/opt/torch 2.7/lib/libtorch_cpu.so");
	return 0;
}
static void string_free(char *s) { free(s); }
const wt_api *weaksup_torch_api(int v) {
	if (v != WT_ABI_VERSION) return NULL;
	api.abi_version = v;
	api.version = version;
	api.string_free = string_free;
	return &api;
}
`, "-I"+src)

	err = open(shim)
	var verr *VersionError
	if !errors.As(err, &verr) {
		t.Fatalf("open %s: %v, want a *VersionError", shim, err)
	}
	want := VersionError{Shim: shim, Built: "2.6.0", Found: "2.7.1", FoundAt: "/opt/torch 2.7/lib/libtorch_cpu.so"}
	if *verr != want {
		t.Errorf("got %+v, want %+v", *verr, want)
	}
	if now, err := Version(); err != nil || now != here {
		t.Errorf("after refusing a shim, Version is %+v, %v; want %+v", now, err, here)
	}
}

func TestSameVersion(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"2.6.0", "2.6.0", true},
		{"2.6.0", "2.6.0+cu124", true},
		{"1.13.0", "1.13", true},
		{"2.6.0", "2.6.1", false},
		{"2.6.0", "2.7.0", false},
		{"1.13.0", "2.6", false},
		{"2.6.0", "unknown", false},
		{"", "", true},
	} {
		if got := sameVersion(tc.a, tc.b); got != tc.want {
			t.Errorf("sameVersion(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Info
	}{
		{"libtorch=2.6.0 runtime=2.6.0 cuda=12.4 lib=/usr/lib/libtorch_cpu.so.2.6",
			Info{Torch: "2.6.0", Runtime: "2.6.0", CUDA: "12.4", TorchLib: "/usr/lib/libtorch_cpu.so.2.6"}},
		{"libtorch=1.13.0 runtime=1.13.0 cuda= lib=/a dir/libtorch_cpu.so",
			Info{Torch: "1.13.0", Runtime: "1.13.0", TorchLib: "/a dir/libtorch_cpu.so"}},
		{"libtorch 1.13.0 cuda=0", Info{Torch: "1.13.0"}}, // a shim from before the fields: no runtime check
	} {
		if got := parseVersion(tc.in); got != tc.want {
			t.Errorf("parseVersion(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestCheckDevice: the CPU is always usable; a CUDA device is an error that
// says why it is not: a shim without CUDA (rebuild it), a CUDA shim that
// sees no device (the machine's GPUs or driver), or an ordinal past the
// last visible device.
func TestCheckDevice(t *testing.T) {
	needLib(t)
	if err := CheckDevice(CPU); err != nil {
		t.Errorf("CheckDevice(cpu): %v", err)
	}
	v, err := Version()
	if err != nil {
		t.Fatal(err)
	}
	n, err := CUDADeviceCount()
	if err != nil {
		t.Fatal(err)
	}
	check := func(d Device, want string) {
		t.Helper()
		err := CheckDevice(d)
		switch {
		case want == "" && err != nil:
			t.Errorf("CheckDevice(%v): %v", d, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("CheckDevice(%v): %v, want an error saying %q", d, err, want)
		}
	}
	switch {
	case v.CUDA == "":
		check(CUDA(0), "has no CUDA; build the shim against a CUDA PyTorch")
	case n == 0:
		check(CUDA(0), "no CUDA device is visible (libtorch "+v.Runtime+" with CUDA "+v.CUDA)
	default:
		check(CUDA(0), "")
		check(CUDA(n), fmt.Sprintf("%d CUDA devices are visible", n))
	}
}
