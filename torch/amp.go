package torch

/*
#include "bridge_amp.h"
*/
import "C"

import "fmt"

// Mixed precision: libtorch's autocast and the unscale step of dynamic loss
// scaling. See the package documentation's "Mixed precision" section.

// SetAutocast turns libtorch's autocast for devices of type dev on, with
// dtype BFloat16 or Float16 as the low precision, or off with dtype
// Float32, for every later call from any goroutine, and returns the
// previous setting (Float32 when it was off). Every change drops the cache
// of weight casts, so a forward after an optimizer step casts the new
// weights. Autocast is the usual way to use it.
func SetAutocast(dev DeviceType, dtype DType) (previous DType, err error) {
	if err := Load(); err != nil {
		return Float32, err
	}
	on := C.int(1)
	switch dtype {
	case Float32:
		on = 0
	case BFloat16, Float16:
	default:
		return Float32, &Error{Op: "set autocast", Msg: fmt.Sprintf("dtype %v, want bfloat16, float16 or float32 (off)", dtype)}
	}
	var prevOn, prevDType C.int
	var e *C.char
	if C.wtg_set_autocast(C.int(dev), on, C.int(dtype), &prevOn, &prevDType, &e) != 0 {
		return Float32, cError("set autocast", e)
	}
	if prevOn == 0 {
		return Float32, nil
	}
	return DType(prevDType), nil
}

// Autocast runs fn with autocast for dev's type in dtype, as `with
// torch.autocast(device_type, dtype)` does: convolutions and matrix
// products run in dtype, numerically sensitive ops (losses, batch-norm
// statistics, the weights themselves) stay in float32. Float32 runs fn
// with autocast off. The previous setting is restored afterwards, which
// drops the weight-cast cache as leaving torch.autocast does; call it once
// per forward pass and run Backward and the optimizer step outside it.
//
// Like NoGrad the setting is process-wide: every op called while fn runs,
// from any goroutine, is autocast.
func Autocast(dev Device, dtype DType, fn func() error) error {
	prev, err := SetAutocast(dev.Type, dtype)
	if err != nil {
		return err
	}
	defer SetAutocast(dev.Type, prev) //nolint:errcheck // the library is loaded and prev is valid; it cannot fail
	return fn()
}

// autocastState returns libtorch's own (thread-local) autocast dtype for
// devices of type dev as an op called now from the calling OS thread sees
// it (Float32: off). It is what SetAutocast set, whatever the thread.
func autocastState(dev DeviceType) (DType, error) {
	if err := Load(); err != nil {
		return Float32, err
	}
	var on, dtype C.int
	var e *C.char
	if C.wtg_autocast_state(C.int(dev), &on, &dtype, &e) != 0 {
		return Float32, cError("autocast state", e)
	}
	if on == 0 {
		return Float32, nil
	}
	return DType(dtype), nil
}

// UnscaleGrads multiplies the gradient of each parameter that has one by
// invScale, in place, and reports whether any gradient held an inf or NaN
// before (PyTorch's GradScaler.unscale_). Gradients on CUDA go through
// libtorch's fused kernel; the call waits for the answer.
func UnscaleGrads(params []*Tensor, invScale float64) (foundInf bool, err error) {
	if len(params) == 0 {
		return false, nil
	}
	if err := check("unscale gradients", params...); err != nil {
		return false, err
	}
	hs := handles(params)
	var found C.int
	var e *C.char
	if C.wtg_amp_unscale(&hs[0], C.int(len(hs)), C.double(invScale), &found, &e) != 0 {
		return false, cError("unscale gradients", e)
	}
	return found != 0, nil
}

// BF16Supported reports whether a device computes in bfloat16 natively: a
// CPU with AVX512_BF16 or AMX-BF16 (oneDNN's bf16 convolutions and matrix
// products use them), or a CUDA device of compute capability 8.0 or later.
// Elsewhere bfloat16 works but is emulated, and slower than float32.
func BF16Supported(dev Device) (bool, error) {
	if err := Load(); err != nil {
		return false, err
	}
	var out C.int
	var e *C.char
	if C.wtg_bf16_supported(C.int(dev.Type), C.int(dev.Index), &out, &e) != 0 {
		return false, cError("bf16 supported", e)
	}
	return out != 0, nil
}
