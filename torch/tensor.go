package torch

/*
#include "bridge.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Tensor is a handle to a libtorch tensor.
//
// A Tensor is either valid, closed, or failed: an op that fails returns a
// failed tensor whose Err is set, and every op given a failed tensor returns
// a failed tensor with the same error without calling libtorch. A chain of
// ops therefore needs one error check at its end (Err, or the error of a
// method that returns data). A nil *Tensor stands for an absent optional
// argument (a bias) and is an error where a tensor is required.
type Tensor struct {
	h     C.wt_tensor
	err   error
	scope *Scope
	index int
}

// errClosed is the error of an op given a closed tensor.
var errClosed = errors.New("use of a closed tensor")

// Err returns the error of a failed tensor, an error for a closed or nil
// tensor, and nil for a valid one.
func (t *Tensor) Err() error {
	switch {
	case t == nil:
		return errors.New("nil tensor")
	case t.err != nil:
		return t.err
	case t.h == nil:
		return errClosed
	}
	return nil
}

// Close frees the tensor now. It is idempotent, and a scope that owns the
// tensor skips it afterwards.
func (t *Tensor) Close() {
	if t == nil || t.h == nil {
		return
	}
	C.wtg_tensor_free(t.h)
	t.h = nil
	if t.err == nil {
		t.err = errClosed
	}
}

func failed(err error) *Tensor { return &Tensor{err: err} }

// adopt wraps a new handle and registers it in the innermost scope.
func adopt(h C.wt_tensor) *Tensor {
	t := &Tensor{h: h}
	register(t)
	watch(t)
	return t
}

// check returns the first error among required inputs.
func check(op string, ts ...*Tensor) error {
	if err := Load(); err != nil {
		return err
	}
	for _, t := range ts {
		if t == nil {
			return &Error{Op: op, Msg: "nil tensor argument"}
		}
		if err := t.Err(); err != nil {
			return err
		}
	}
	return nil
}

// optHandle returns the handle of an optional input (NULL for nil).
func optHandle(t *Tensor) (C.wt_tensor, error) {
	if t == nil {
		return nil, nil
	}
	if err := t.Err(); err != nil {
		return nil, err
	}
	return t.h, nil
}

// call runs one op that produces one tensor.
func call(op string, f func(out *C.wt_tensor, e **C.char) C.int, inputs ...*Tensor) *Tensor {
	if err := check(op, inputs...); err != nil {
		return failed(err)
	}
	var out C.wt_tensor
	var e *C.char
	if f(&out, &e) != 0 {
		return failed(cError(op, e))
	}
	return adopt(out)
}

func cdims(shape []int64) (*C.int64_t, C.int) {
	if len(shape) == 0 {
		return nil, 0
	}
	return (*C.int64_t)(unsafe.Pointer(&shape[0])), C.int(len(shape))
}

func numel(shape []int64) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		n *= d
	}
	return n, nil
}

// FromData copies raw little-endian elements of dtype into a new CPU tensor.
func FromData(dtype DType, data []byte, shape ...int64) *Tensor {
	n, err := numel(shape)
	if err != nil {
		return failed(&Error{Op: "from data", Msg: err.Error()})
	}
	if want := n * int64(dtype.Size()); int64(len(data)) != want || dtype.Size() == 0 {
		return failed(&Error{Op: "from data", Msg: fmt.Sprintf("%d bytes for %v of shape %v, want %d", len(data), dtype, shape, want)})
	}
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0])
	}
	return fromPointer(dtype, p, shape, data)
}

func fromPointer(dtype DType, p unsafe.Pointer, shape []int64, keep any) *Tensor {
	t := call("from data", func(out *C.wt_tensor, e **C.char) C.int {
		d, n := cdims(shape)
		return C.wtg_from_data(p, C.int(dtype), d, n, out, e)
	})
	runtimeKeepAlive(keep)
	return t
}

// FromFloat32 copies data into a new float32 CPU tensor of the given shape.
func FromFloat32(data []float32, shape ...int64) *Tensor {
	n, err := numel(shape)
	if err != nil || n != int64(len(data)) {
		return failed(&Error{Op: "from float32", Msg: fmt.Sprintf("%d values for shape %v", len(data), shape)})
	}
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0])
	}
	return fromPointer(Float32, p, shape, data)
}

// FromInt64 copies data into a new int64 CPU tensor of the given shape.
func FromInt64(data []int64, shape ...int64) *Tensor {
	n, err := numel(shape)
	if err != nil || n != int64(len(data)) {
		return failed(&Error{Op: "from int64", Msg: fmt.Sprintf("%d values for shape %v", len(data), shape)})
	}
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0])
	}
	return fromPointer(Int64, p, shape, data)
}

func create(op string, kind int, dtype DType, dev Device, shape []int64) *Tensor {
	return call(op, func(out *C.wt_tensor, e **C.char) C.int {
		d, n := cdims(shape)
		return C.wtg_create(C.int(kind), C.int(dtype), d, n, C.int(dev.Type), C.int(dev.Index), out, e)
	})
}

// Zeros returns a tensor of zeros.
func Zeros(dtype DType, dev Device, shape ...int64) *Tensor {
	return create("zeros", 0, dtype, dev, shape)
}

// Ones returns a tensor of ones.
func Ones(dtype DType, dev Device, shape ...int64) *Tensor {
	return create("ones", 1, dtype, dev, shape)
}

// Randn returns standard normal samples from the default generator.
func Randn(dtype DType, dev Device, shape ...int64) *Tensor {
	return create("randn", 2, dtype, dev, shape)
}

// Rand returns samples uniform on [0, 1) from the default generator.
func Rand(dtype DType, dev Device, shape ...int64) *Tensor {
	return create("rand", 3, dtype, dev, shape)
}

// Empty returns an uninitialized tensor.
func Empty(dtype DType, dev Device, shape ...int64) *Tensor {
	return create("empty", 4, dtype, dev, shape)
}

// Shape returns the sizes of the tensor's dimensions, or nil for a failed
// or closed tensor.
func (t *Tensor) Shape() []int64 {
	if t.Err() != nil {
		return nil
	}
	var dims [16]C.int64_t
	var nd C.int
	var e *C.char
	if C.wtg_shape(t.h, &dims[0], 16, &nd, &e) != 0 {
		C.wtg_string_free(e)
		return nil
	}
	if nd > 16 {
		return nil
	}
	out := make([]int64, int(nd))
	for i := range out {
		out[i] = int64(dims[i])
	}
	return out
}

// Numel returns the number of elements (0 for a failed tensor).
func (t *Tensor) Numel() int64 {
	s := t.Shape()
	if s == nil {
		return 0
	}
	n, _ := numel(s)
	return n
}

// DType returns the element type.
func (t *Tensor) DType() (DType, error) {
	if err := t.Err(); err != nil {
		return 0, err
	}
	var d C.int
	var e *C.char
	if C.wtg_dtype(t.h, &d, &e) != 0 {
		return 0, cError("dtype", e)
	}
	return DType(d), nil
}

// Device returns the device that holds the tensor.
func (t *Tensor) Device() (Device, error) {
	if err := t.Err(); err != nil {
		return Device{}, err
	}
	var dt, di C.int
	var e *C.char
	if C.wtg_device(t.h, &dt, &di, &e) != 0 {
		return Device{}, cError("device", e)
	}
	return Device{Type: DeviceType(dt), Index: int(di)}, nil
}

// IsChannelsLast reports whether a 4-d tensor is laid out channels-last.
func (t *Tensor) IsChannelsLast() bool {
	if t.Err() != nil {
		return false
	}
	var v C.int
	var e *C.char
	if C.wtg_is_channels_last(t.h, &v, &e) != 0 {
		C.wtg_string_free(e)
		return false
	}
	return v != 0
}

// Bytes copies the elements, in logical row-major order whatever the memory
// format, into a new byte slice (little-endian). It moves the data to the CPU
// first if needed.
func (t *Tensor) Bytes() ([]byte, error) {
	dt, err := t.DType()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, t.Numel()*int64(dt.Size()))
	return buf, t.copyOut("bytes", unsafe.Pointer(unsafe.SliceData(buf)), int64(len(buf)), buf)
}

// Float32s copies the elements of a float32 tensor into a new slice.
func (t *Tensor) Float32s() ([]float32, error) {
	if err := t.wantDType("float32s", Float32); err != nil {
		return nil, err
	}
	buf := make([]float32, t.Numel())
	return buf, t.copyOut("float32s", unsafe.Pointer(unsafe.SliceData(buf)), int64(len(buf))*4, buf)
}

// Int64s copies the elements of an int64 tensor into a new slice.
func (t *Tensor) Int64s() ([]int64, error) {
	if err := t.wantDType("int64s", Int64); err != nil {
		return nil, err
	}
	buf := make([]int64, t.Numel())
	return buf, t.copyOut("int64s", unsafe.Pointer(unsafe.SliceData(buf)), int64(len(buf))*8, buf)
}

func (t *Tensor) wantDType(op string, want DType) error {
	got, err := t.DType()
	if err != nil {
		return err
	}
	if got != want {
		return &Error{Op: op, Msg: fmt.Sprintf("tensor is %v, want %v", got, want)}
	}
	return nil
}

func (t *Tensor) copyOut(op string, p unsafe.Pointer, n int64, keep any) error {
	var e *C.char
	rc := C.wtg_copy_out(t.h, p, C.int64_t(n), &e)
	runtimeKeepAlive(keep)
	if rc != 0 {
		return cError(op, e)
	}
	return nil
}

// Item returns the value of a one-element tensor as a float64.
func (t *Tensor) Item() (float64, error) {
	if err := check("item", t); err != nil {
		return 0, err
	}
	var v C.double
	var e *C.char
	if C.wtg_item(t.h, &v, &e) != 0 {
		return 0, cError("item", e)
	}
	return float64(v), nil
}

// To returns the tensor on another device (the tensor itself, as a new
// handle, when it is already there).
func (t *Tensor) To(dev Device) *Tensor {
	return t.convert("to device", int(dev.Type), dev.Index, -1, PreserveFormat)
}

// ToDType returns the tensor converted to another element type.
func (t *Tensor) ToDType(d DType) *Tensor {
	return t.convert("to dtype", -1, 0, int(d), PreserveFormat)
}

// ToFormat returns the tensor in a memory format (a new handle to the same
// data when it is already in that format).
func (t *Tensor) ToFormat(f MemoryFormat) *Tensor { return t.convert("to memory format", -1, 0, -1, f) }

// Contiguous returns the tensor laid out row-major.
func (t *Tensor) Contiguous() *Tensor { return t.ToFormat(Contiguous) }

func (t *Tensor) convert(op string, devType, devIndex, dtype int, f MemoryFormat) *Tensor {
	return call(op, func(out *C.wt_tensor, e **C.char) C.int {
		return C.wtg_to(t.h, C.int(devType), C.int(devIndex), C.int(dtype), C.int(f), out, e)
	}, t)
}

// String describes the tensor's shape and type, not its values.
func (t *Tensor) String() string {
	if err := t.Err(); err != nil {
		return "Tensor(" + err.Error() + ")"
	}
	dt, _ := t.DType()
	dev, _ := t.Device()
	return fmt.Sprintf("Tensor(%v %v %v)", t.Shape(), dt, dev)
}
