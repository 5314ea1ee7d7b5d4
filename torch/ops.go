package torch

/*
#include "bridge.h"
*/
import "C"

// Element-wise, shape and reduction ops. Each returns a new tensor in the
// innermost scope, or a failed tensor (see Tensor).

func (t *Tensor) unary(op string, code C.int) *Tensor {
	return call(op, func(out *C.wt_tensor, e **C.char) C.int { return C.wtg_unary(code, t.h, out, e) }, t)
}

func (t *Tensor) binary(op string, code C.int, o *Tensor) *Tensor {
	return call(op, func(out *C.wt_tensor, e **C.char) C.int { return C.wtg_binary(code, t.h, o.h, out, e) }, t, o)
}

func (t *Tensor) scalar(op string, code C.int, s float64) *Tensor {
	return call(op, func(out *C.wt_tensor, e **C.char) C.int { return C.wtg_scalar(code, t.h, C.double(s), out, e) }, t)
}

// Relu returns max(t, 0).
func (t *Tensor) Relu() *Tensor { return t.unary("relu", C.WT_RELU) }

// Neg returns -t.
func (t *Tensor) Neg() *Tensor { return t.unary("neg", C.WT_NEG) }

// Exp returns e^t.
func (t *Tensor) Exp() *Tensor { return t.unary("exp", C.WT_EXP) }

// Log returns the natural logarithm.
func (t *Tensor) Log() *Tensor { return t.unary("log", C.WT_LOG) }

// Sigmoid returns 1/(1+e^-t).
func (t *Tensor) Sigmoid() *Tensor { return t.unary("sigmoid", C.WT_SIGMOID) }

// Tanh returns tanh(t).
func (t *Tensor) Tanh() *Tensor { return t.unary("tanh", C.WT_TANH) }

// Sqrt returns the square root.
func (t *Tensor) Sqrt() *Tensor { return t.unary("sqrt", C.WT_SQRT) }

// Abs returns |t|.
func (t *Tensor) Abs() *Tensor { return t.unary("abs", C.WT_ABS) }

// Square returns t*t.
func (t *Tensor) Square() *Tensor { return t.unary("square", C.WT_SQUARE) }

// LogSigmoid returns log(sigmoid(t)), computed stably.
func (t *Tensor) LogSigmoid() *Tensor { return t.unary("log sigmoid", C.WT_LOG_SIGMOID) }

// IsFinite returns a bool tensor, true where t is neither inf nor NaN.
func (t *Tensor) IsFinite() *Tensor { return t.unary("isfinite", C.WT_ISFINITE) }

// Add returns t + o (broadcasting).
func (t *Tensor) Add(o *Tensor) *Tensor { return t.binary("add", C.WT_ADD, o) }

// Sub returns t - o.
func (t *Tensor) Sub(o *Tensor) *Tensor { return t.binary("sub", C.WT_SUB, o) }

// Mul returns t * o element-wise.
func (t *Tensor) Mul(o *Tensor) *Tensor { return t.binary("mul", C.WT_MUL, o) }

// Div returns t / o.
func (t *Tensor) Div(o *Tensor) *Tensor { return t.binary("div", C.WT_DIV, o) }

// Matmul returns the matrix product (torch.matmul).
func (t *Tensor) Matmul(o *Tensor) *Tensor { return t.binary("matmul", C.WT_MATMUL, o) }

// Eq returns a bool tensor, t == o.
func (t *Tensor) Eq(o *Tensor) *Tensor { return t.binary("eq", C.WT_EQ, o) }

// Gt returns a bool tensor, t > o.
func (t *Tensor) Gt(o *Tensor) *Tensor { return t.binary("gt", C.WT_GT, o) }

// Lt returns a bool tensor, t < o.
func (t *Tensor) Lt(o *Tensor) *Tensor { return t.binary("lt", C.WT_LT, o) }

// Maximum returns the element-wise maximum.
func (t *Tensor) Maximum(o *Tensor) *Tensor { return t.binary("maximum", C.WT_MAXIMUM, o) }

// Minimum returns the element-wise minimum.
func (t *Tensor) Minimum(o *Tensor) *Tensor { return t.binary("minimum", C.WT_MINIMUM, o) }

// AddScalar returns t + s.
func (t *Tensor) AddScalar(s float64) *Tensor { return t.scalar("add scalar", C.WT_S_ADD, s) }

// MulScalar returns t * s.
func (t *Tensor) MulScalar(s float64) *Tensor { return t.scalar("mul scalar", C.WT_S_MUL, s) }

// Pow returns t^s.
func (t *Tensor) Pow(s float64) *Tensor { return t.scalar("pow", C.WT_S_POW, s) }

// ClampMin returns max(t, s).
func (t *Tensor) ClampMin(s float64) *Tensor { return t.scalar("clamp min", C.WT_S_CLAMP_MIN, s) }

// ClampMax returns min(t, s).
func (t *Tensor) ClampMax(s float64) *Tensor { return t.scalar("clamp max", C.WT_S_CLAMP_MAX, s) }

// RSub returns s - t.
func (t *Tensor) RSub(s float64) *Tensor { return t.scalar("rsub", C.WT_S_RSUB, s) }

func (t *Tensor) reduce(op string, code C.int, dims []int64, keepdim bool) *Tensor {
	return call(op, func(out *C.wt_tensor, e **C.char) C.int {
		d, n := cdims(dims)
		return C.wtg_reduce(code, t.h, d, n, cbool(keepdim), out, e)
	}, t)
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// Sum returns the sum over dims, or over every element when dims is empty
// (a 0-d tensor).
func (t *Tensor) Sum(dims ...int64) *Tensor { return t.reduce("sum", C.WT_SUM, dims, false) }

// Mean returns the mean over dims, or over every element when dims is empty.
func (t *Tensor) Mean(dims ...int64) *Tensor { return t.reduce("mean", C.WT_MEAN, dims, false) }

// SumKeepDim is Sum keeping the reduced dims with size 1.
func (t *Tensor) SumKeepDim(dims ...int64) *Tensor { return t.reduce("sum", C.WT_SUM, dims, true) }

// MeanKeepDim is Mean keeping the reduced dims with size 1.
func (t *Tensor) MeanKeepDim(dims ...int64) *Tensor { return t.reduce("mean", C.WT_MEAN, dims, true) }

// Max returns the maximum over dims (every element when empty).
func (t *Tensor) Max(dims ...int64) *Tensor { return t.reduce("amax", C.WT_AMAX, dims, false) }

// Min returns the minimum over dims (every element when empty).
func (t *Tensor) Min(dims ...int64) *Tensor { return t.reduce("amin", C.WT_AMIN, dims, false) }

// Argmax returns the int64 index of the maximum along dim.
func (t *Tensor) Argmax(dim int64) *Tensor {
	return t.reduce("argmax", C.WT_ARGMAX, []int64{dim}, false)
}

// LogSumExp returns log(sum(exp(t))) over dims, computed stably.
func (t *Tensor) LogSumExp(dims ...int64) *Tensor {
	return t.reduce("logsumexp", C.WT_LOGSUMEXP, dims, false)
}

// Softmax returns the softmax along dim.
func (t *Tensor) Softmax(dim int64) *Tensor {
	return call("softmax", func(out *C.wt_tensor, e **C.char) C.int { return C.wtg_softmax(t.h, C.int64_t(dim), 0, out, e) }, t)
}

// LogSoftmax returns the log-softmax along dim.
func (t *Tensor) LogSoftmax(dim int64) *Tensor {
	return call("log softmax", func(out *C.wt_tensor, e **C.char) C.int { return C.wtg_softmax(t.h, C.int64_t(dim), 1, out, e) }, t)
}

// TopK returns the k largest (or smallest) values along dim, sorted, and
// their int64 indices.
func (t *Tensor) TopK(k int64, dim int64, largest bool) (values, indices *Tensor) {
	if err := check("topk", t); err != nil {
		return failed(err), failed(err)
	}
	var v, i C.wt_tensor
	var e *C.char
	if C.wtg_topk(t.h, C.int64_t(k), C.int64_t(dim), cbool(largest), &v, &i, &e) != 0 {
		err := cError("topk", e)
		return failed(err), failed(err)
	}
	return adopt(v), adopt(i)
}

// Reshape returns the tensor with a new shape (-1 infers one dim); a view
// when possible.
func (t *Tensor) Reshape(shape ...int64) *Tensor {
	return call("reshape", func(out *C.wt_tensor, e **C.char) C.int {
		d, n := cdims(shape)
		return C.wtg_reshape(t.h, d, n, out, e)
	}, t)
}

// Permute returns a view with dims reordered.
func (t *Tensor) Permute(dims ...int64) *Tensor {
	return call("permute", func(out *C.wt_tensor, e **C.char) C.int {
		d, n := cdims(dims)
		return C.wtg_permute(t.h, d, n, out, e)
	}, t)
}

// Flatten merges dims start..end (inclusive; negative counts from the end).
func (t *Tensor) Flatten(start, end int64) *Tensor {
	return call("flatten", func(out *C.wt_tensor, e **C.char) C.int {
		return C.wtg_flatten(t.h, C.int64_t(start), C.int64_t(end), out, e)
	}, t)
}

// Narrow returns the view of length elements of dim from start.
func (t *Tensor) Narrow(dim, start, length int64) *Tensor {
	return call("narrow", func(out *C.wt_tensor, e **C.char) C.int {
		return C.wtg_narrow(t.h, C.int64_t(dim), C.int64_t(start), C.int64_t(length), out, e)
	}, t)
}

// IndexSelect returns the entries of dim listed in the int64 tensor index.
func (t *Tensor) IndexSelect(dim int64, index *Tensor) *Tensor {
	return call("index select", func(out *C.wt_tensor, e **C.char) C.int {
		return C.wtg_index_select(t.h, C.int64_t(dim), index.h, out, e)
	}, t, index)
}

// Clone returns a copy with its own storage (recorded by autograd).
func (t *Tensor) Clone() *Tensor {
	return call("clone", func(out *C.wt_tensor, e **C.char) C.int { return C.wtg_clone(t.h, out, e) }, t)
}

// Detach returns a view that autograd does not track.
func (t *Tensor) Detach() *Tensor {
	return call("detach", func(out *C.wt_tensor, e **C.char) C.int { return C.wtg_detach(t.h, out, e) }, t)
}

// Cat concatenates tensors along dim.
func Cat(ts []*Tensor, dim int64) *Tensor {
	if len(ts) == 0 {
		return failed(&Error{Op: "cat", Msg: "no tensors"})
	}
	hs := make([]C.wt_tensor, len(ts))
	return call("cat", func(out *C.wt_tensor, e **C.char) C.int {
		for i, t := range ts {
			hs[i] = t.h
		}
		return C.wtg_cat(&hs[0], C.int(len(hs)), C.int64_t(dim), out, e)
	}, ts...)
}
