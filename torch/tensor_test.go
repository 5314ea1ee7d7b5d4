package torch

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// needLib fails the test (never skips) when the shim cannot be loaded. Other
// packages call torchtest.Need, which this package cannot import.
func needLib(t testing.TB) {
	t.Helper()
	if err := Load(); err != nil {
		t.Fatalf("libtorch shim not loadable (run `%s` first): %v", BuildCommand, err)
	}
}

func closeEnough(got, want []float32, rtol, atol float64) (int, bool) {
	if len(got) != len(want) {
		return -1, false
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > atol+rtol*math.Abs(float64(want[i])) {
			return i, false
		}
	}
	return 0, true
}

func TestFromFloat32RoundTrip(t *testing.T) {
	needLib(t)
	s := NewScope()
	defer s.Close()
	tests := []struct {
		name  string
		data  []float32
		shape []int64
	}{
		{"scalar", []float32{3.5}, nil},
		{"vector", []float32{1, -2, 3}, []int64{3}},
		{"matrix", []float32{1, 2, 3, 4, 5, 6}, []int64{2, 3}},
		{"empty", []float32{}, []int64{0, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := FromFloat32(tc.data, tc.shape...)
			got, err := x.Float32s()
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := closeEnough(got, tc.data, 0, 0); !ok {
				t.Errorf("values: got %v, want %v", got, tc.data)
			}
			if gs := x.Shape(); len(gs) != len(tc.shape) {
				t.Errorf("shape: got %v, want %v", gs, tc.shape)
			}
			if dt, _ := x.DType(); dt != Float32 {
				t.Errorf("dtype: got %v, want float32", dt)
			}
		})
	}
}

func TestInt64AndBytes(t *testing.T) {
	needLib(t)
	s := NewScope()
	defer s.Close()
	x := FromInt64([]int64{1 << 40, -7, 0}, 3)
	got, err := x.Int64s()
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 1<<40 || got[1] != -7 || got[2] != 0 {
		t.Errorf("got %v", got)
	}
	if _, err := x.Float32s(); err == nil {
		t.Errorf("Float32s of an int64 tensor: got no error")
	}
	b := FromData(Uint8, []byte{9, 8, 7}, 3)
	bs, err := b.Bytes()
	if err != nil || string(bs) != "\x09\x08\x07" {
		t.Errorf("bytes: got %v, %v", bs, err)
	}
	if err := FromData(Float32, []byte{1, 2, 3}, 1).Err(); err == nil {
		t.Errorf("3 bytes as one float32: got no error")
	}
}

func TestErrorsComeBackAndPropagate(t *testing.T) {
	needLib(t)
	s := NewScope()
	defer s.Close()
	x := Zeros(Float32, CPU, 1, 3, 8, 8)
	w := Zeros(Float32, CPU, 4, 5, 3, 3) // 5 input channels, x has 3
	y := Conv2d(x, w, nil, Conv2dOptions{})
	var te *Error
	if !errors.As(y.Err(), &te) || te.Op != "conv2d" {
		t.Fatalf("conv2d with mismatched channels: got %v, want a torch conv2d error", y.Err())
	}
	z := y.Relu().Sum()
	if !errors.Is(z.Err(), y.Err()) {
		t.Errorf("chained error: got %v, want %v", z.Err(), y.Err())
	}
	if _, err := z.Item(); err == nil {
		t.Errorf("Item of a failed tensor: got no error")
	}
	if err := Zeros(Float32, CPU, 2, 3).Reshape(7).Err(); err == nil || !strings.Contains(err.Error(), "reshape") {
		t.Errorf("bad reshape: got %v", err)
	}
	c := Ones(Float32, CPU, 2)
	c.Close()
	c.Close()
	if err := c.Relu().Err(); err == nil {
		t.Errorf("op on a closed tensor: got no error")
	}
}

func TestMissingLibraryNamesBuildCommand(t *testing.T) {
	if os.Getenv("WEAKSUP_TORCH_CHILD") == "missing" {
		err := Load()
		if err == nil {
			os.Exit(3)
		}
		os.Stdout.WriteString(err.Error())
		if errors.Is(err, ErrLibraryNotFound) {
			os.Exit(0)
		}
		os.Exit(4)
	}
	tests := []struct {
		name     string
		env      string // value of WEAKSUP_TORCH_LIB; "" unsets it
		wantExit int    // 0: ErrLibraryNotFound, 4: the dlopen error of an explicit path
		wantText string
	}{
		{"explicit path", "/nonexistent/libweaksup_torch.so", 4, "/nonexistent"},
		{"nowhere", "", 0, "not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMissingLibraryNamesBuildCommand$")
			cmd.Dir = t.TempDir() // no build/lib above it
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, EnvLibrary+"=") && !strings.HasPrefix(kv, "LD_LIBRARY_PATH=") {
					env = append(env, kv)
				}
			}
			env = append(env, "WEAKSUP_TORCH_CHILD=missing")
			if tc.env != "" {
				env = append(env, EnvLibrary+"="+tc.env)
			}
			cmd.Env = env
			out, err := cmd.Output()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantExit {
				t.Fatalf("child exit: got %d, want %d; output %q", code, tc.wantExit, out)
			}
			if !strings.Contains(string(out), BuildCommand) || !strings.Contains(string(out), tc.wantText) {
				t.Errorf("load error %q does not name %q and %q", out, BuildCommand, tc.wantText)
			}
		})
	}
}

func TestChannelsLastKeepsValues(t *testing.T) {
	needLib(t)
	s := NewScope()
	defer s.Close()
	data := make([]float32, 2*3*4*5)
	for i := range data {
		data[i] = float32(i)
	}
	x := FromFloat32(data, 2, 3, 4, 5)
	cl := x.ToFormat(ChannelsLast)
	if !cl.IsChannelsLast() || x.IsChannelsLast() {
		t.Errorf("IsChannelsLast: got %v for the converted, %v for the original", cl.IsChannelsLast(), x.IsChannelsLast())
	}
	got, err := cl.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	if i, ok := closeEnough(got, data, 0, 0); !ok {
		t.Errorf("channels-last copy out differs at %d", i)
	}
}

func TestRNGStateRoundTrip(t *testing.T) {
	needLib(t)
	s := NewScope()
	defer s.Close()
	if err := ManualSeed(42); err != nil {
		t.Fatal(err)
	}
	state, err := RNGState(CPU)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Randn(Float32, CPU, 16).Float32s()
	b, _ := Randn(Float32, CPU, 16).Float32s()
	if _, same := closeEnough(a, b, 0, 0); same {
		t.Fatalf("two draws are equal: the generator does not advance")
	}
	if err := SetRNGState(CPU, state); err != nil {
		t.Fatal(err)
	}
	c, _ := Randn(Float32, CPU, 16).Float32s()
	if i, ok := closeEnough(c, a, 0, 0); !ok {
		t.Errorf("after restoring the state, draw differs at %d: %v vs %v", i, c[i], a[i])
	}
	if err := ManualSeed(42); err != nil {
		t.Fatal(err)
	}
	d, _ := Randn(Float32, CPU, 16).Float32s()
	if _, ok := closeEnough(d, a, 0, 0); !ok {
		t.Errorf("same seed, different draw")
	}
}

func TestThreadsAndDevices(t *testing.T) {
	needLib(t)
	if err := SetNumThreads(1); err != nil {
		t.Fatal(err)
	}
	if n, err := NumThreads(); err != nil || n != 1 {
		t.Errorf("NumThreads: got %d, %v, want 1", n, err)
	}
	if err := SetNumThreads(0); err == nil {
		t.Errorf("SetNumThreads(0): got no error")
	}
	v, err := Version()
	if err != nil || v.Torch == "" || !sameVersion(v.Torch, v.Runtime) || v.ABI != ABIVersion || v.Path == "" {
		t.Errorf("Version: got %+v, %v", v, err)
	}
	n, err := CUDADeviceCount()
	if err != nil {
		t.Fatal(err)
	}
	if CUDAAvailable() != (n > 0) {
		t.Errorf("CUDAAvailable disagrees with %d devices", n)
	}
	for _, tc := range []struct {
		in   string
		want Device
		ok   bool
	}{{"cpu", CPU, true}, {"cuda", CUDA(0), true}, {"cuda:3", CUDA(3), true}, {"gpu", Device{}, false}, {"cuda:x", Device{}, false}} {
		got, err := ParseDevice(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDevice(%q): got %v, %v", tc.in, got, err)
		}
	}
}
