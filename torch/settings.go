package torch

/*
#include "bridge.h"
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
)

func runtimeKeepAlive(v any) { runtime.KeepAlive(v) }

// CUDADeviceCount returns the number of CUDA devices the library can use (0
// for a CPU-only build).
func CUDADeviceCount() (int, error) {
	if err := Load(); err != nil {
		return 0, err
	}
	var n C.int
	var e *C.char
	if C.wtg_cuda_device_count(&n, &e) != 0 {
		return 0, cError("cuda device count", e)
	}
	return int(n), nil
}

// CUDAAvailable reports whether the library was built with CUDA and sees a
// device. It is false when the library cannot be loaded.
func CUDAAvailable() bool {
	n, err := CUDADeviceCount()
	return err == nil && n > 0
}

// CheckDevice says why tensors cannot live on dev, or nil when they can:
// the CPU always can; a CUDA device needs a shim built against a CUDA
// libtorch and a device of that ordinal visible to it.
func CheckDevice(dev Device) error {
	if dev.Type != DeviceCUDA {
		return nil
	}
	v, err := Version()
	if err != nil {
		return err
	}
	if v.CUDA == "" {
		return fmt.Errorf("%s is not usable: the shim's libtorch %s (%s) has no CUDA; build the shim against a CUDA PyTorch with `TORCH_DIR=/path/to/site-packages/torch make torch`", dev, v.Runtime, v.TorchLib)
	}
	n, err := CUDADeviceCount()
	if err != nil {
		return fmt.Errorf("%s is not usable: %w", dev, err)
	}
	visible := ""
	if env, ok := os.LookupEnv("CUDA_VISIBLE_DEVICES"); ok {
		visible = fmt.Sprintf(", CUDA_VISIBLE_DEVICES=%q", env)
	}
	switch {
	case n == 0:
		return fmt.Errorf("%s is not usable: no CUDA device is visible (libtorch %s with CUDA %s%s); nvidia-smi lists what the driver sees", dev, v.Runtime, v.CUDA, visible)
	case dev.Index < 0 || dev.Index >= n:
		return fmt.Errorf("%s is not usable: %d CUDA devices are visible, cuda:0 to cuda:%d%s", dev, n, n-1, visible)
	}
	return nil
}

// SetNumThreads sets the number of intra-op threads libtorch uses, for
// every OS thread that calls into it (a process-wide setting).
func SetNumThreads(n int) error {
	if err := Load(); err != nil {
		return err
	}
	var e *C.char
	if C.wtg_set_num_threads(C.int(n), &e) != 0 {
		return cError("set num threads", e)
	}
	return nil
}

// NumThreads returns libtorch's intra-op thread count.
func NumThreads() (int, error) {
	if err := Load(); err != nil {
		return 0, err
	}
	var n C.int
	var e *C.char
	if C.wtg_num_threads(&n, &e) != 0 {
		return 0, cError("num threads", e)
	}
	return int(n), nil
}

// ManualSeed seeds the default generators of the CPU and of every CUDA
// device, as torch.manual_seed does.
func ManualSeed(seed uint64) error {
	if err := Load(); err != nil {
		return err
	}
	var e *C.char
	if C.wtg_manual_seed(C.uint64_t(seed), &e) != 0 {
		return cError("manual seed", e)
	}
	return nil
}

// RNGState returns the state of a device's default generator as bytes (the
// same bytes as torch.get_rng_state for the CPU), for checkpoints.
func RNGState(dev Device) ([]byte, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	var h C.wt_tensor
	var e *C.char
	if C.wtg_rng_state(C.int(dev.Type), C.int(dev.Index), &h, &e) != 0 {
		return nil, cError("rng state", e)
	}
	t := &Tensor{h: h}
	defer t.Close()
	return t.Bytes()
}

// SetRNGState restores a state returned by RNGState.
func SetRNGState(dev Device, state []byte) error {
	t := FromData(Uint8, state, int64(len(state)))
	defer t.Close()
	if err := check("set rng state", t); err != nil {
		return err
	}
	var e *C.char
	if C.wtg_set_rng_state(C.int(dev.Type), C.int(dev.Index), t.h, &e) != 0 {
		return cError("set rng state", e)
	}
	return nil
}

// SetGradEnabled turns autograd recording on or off for every later call,
// from any goroutine, and returns the previous setting.
func SetGradEnabled(on bool) (previous bool, err error) {
	if err := Load(); err != nil {
		return false, err
	}
	var prev C.int
	var e *C.char
	v := C.int(0)
	if on {
		v = 1
	}
	if C.wtg_set_grad_enabled(v, &prev, &e) != 0 {
		return false, cError("set grad enabled", e)
	}
	return prev != 0, nil
}

// NoGrad runs fn with autograd recording off (torch.no_grad) and restores
// the previous setting afterwards.
func NoGrad(fn func() error) error {
	prev, err := SetGradEnabled(false)
	if err != nil {
		return err
	}
	defer SetGradEnabled(prev) //nolint:errcheck // the library is loaded; it cannot fail
	return fn()
}

// Live returns the number of tensor handles alive and the bytes of their
// elements (a view counts its own size). A test that runs a step many times
// and sees these grow has found a leak.
func Live() (tensors, bytes int64) {
	if Load() != nil {
		return 0, 0
	}
	var t, b C.int64_t
	C.wtg_live(&t, &b)
	return int64(t), int64(b)
}

// Synchronize waits until the device has finished queued work (a no-op on
// the CPU); use it before reading a clock.
func Synchronize(dev Device) error {
	if err := Load(); err != nil {
		return err
	}
	var e *C.char
	if C.wtg_synchronize(C.int(dev.Type), C.int(dev.Index), &e) != 0 {
		return cError("synchronize", e)
	}
	return nil
}
