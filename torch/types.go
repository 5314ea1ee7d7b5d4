package torch

import (
	"fmt"
	"strconv"
	"strings"
)

// DType is a tensor element type.
type DType int

// The element types; the values match the C ABI.
const (
	Float32  DType = 0
	Float64  DType = 1
	Int64    DType = 2
	Int32    DType = 3
	Uint8    DType = 4
	Bool     DType = 5
	Float16  DType = 6
	BFloat16 DType = 7
	Int8     DType = 8
	Int16    DType = 9
)

var dtypeNames = map[DType]string{
	Float32: "float32", Float64: "float64", Int64: "int64", Int32: "int32", Uint8: "uint8",
	Bool: "bool", Float16: "float16", BFloat16: "bfloat16", Int8: "int8", Int16: "int16",
}

func (d DType) String() string {
	if s, ok := dtypeNames[d]; ok {
		return s
	}
	return "dtype(" + strconv.Itoa(int(d)) + ")"
}

// Size returns the number of bytes of one element.
func (d DType) Size() int {
	switch d {
	case Float64, Int64:
		return 8
	case Float32, Int32:
		return 4
	case Float16, BFloat16, Int16:
		return 2
	case Uint8, Bool, Int8:
		return 1
	}
	return 0
}

// DeviceType is CPU or CUDA.
type DeviceType int

// Device types; the values match the C ABI.
const (
	DeviceCPU  DeviceType = 0
	DeviceCUDA DeviceType = 1
)

// Device is where a tensor lives. The zero value is the CPU.
type Device struct {
	Type  DeviceType
	Index int // CUDA device ordinal
}

// CPU is the host.
var CPU = Device{Type: DeviceCPU}

// CUDA returns the CUDA device with the given ordinal.
func CUDA(index int) Device { return Device{Type: DeviceCUDA, Index: index} }

func (d Device) String() string {
	if d.Type == DeviceCUDA {
		return "cuda:" + strconv.Itoa(d.Index)
	}
	return "cpu"
}

// ParseDevice parses "cpu", "cuda" or "cuda:N".
func ParseDevice(s string) (Device, error) {
	switch {
	case s == "cpu":
		return CPU, nil
	case s == "cuda":
		return CUDA(0), nil
	case strings.HasPrefix(s, "cuda:"):
		n, err := strconv.Atoi(s[len("cuda:"):])
		if err != nil || n < 0 {
			return Device{}, fmt.Errorf("parse device %q: want cpu, cuda or cuda:N", s)
		}
		return CUDA(n), nil
	}
	return Device{}, fmt.Errorf("parse device %q: want cpu, cuda or cuda:N", s)
}

// MemoryFormat is the layout of a 4-d tensor's elements.
type MemoryFormat int

// Memory formats; the values match the C ABI.
const (
	PreserveFormat MemoryFormat = -1 // keep the input's layout
	Contiguous     MemoryFormat = 0  // NCHW, row-major
	ChannelsLast   MemoryFormat = 1  // NHWC in memory, NCHW in shape
)

// Reduction says how a loss reduces over elements.
type Reduction int

// Loss reductions; the values match the C ABI.
const (
	ReduceNone Reduction = 0
	ReduceMean Reduction = 1
	ReduceSum  Reduction = 2
)
