package torch

/*
#include "bridge.h"
*/
import "C"

import "fmt"

// SetRequiresGrad marks a leaf tensor (a parameter) for gradient
// accumulation.
func (t *Tensor) SetRequiresGrad(on bool) error {
	if err := check("set requires grad", t); err != nil {
		return err
	}
	var e *C.char
	if C.wtg_set_requires_grad(t.h, cbool(on), &e) != 0 {
		return cError("set requires grad", e)
	}
	return nil
}

// RequiresGrad reports whether autograd tracks the tensor.
func (t *Tensor) RequiresGrad() bool {
	if t.Err() != nil {
		return false
	}
	var v C.int
	var e *C.char
	if C.wtg_requires_grad(t.h, &v, &e) != 0 {
		C.wtg_string_free(e)
		return false
	}
	return v != 0
}

// Grad returns a new handle to the accumulated gradient (in the innermost
// scope), or nil when the tensor has none yet.
func (t *Tensor) Grad() *Tensor {
	if err := check("grad", t); err != nil {
		return failed(err)
	}
	var out C.wt_tensor
	var e *C.char
	if C.wtg_grad(t.h, &out, &e) != 0 {
		return failed(cError("grad", e))
	}
	if out == nil {
		return nil
	}
	return adopt(out)
}

// Backward computes the gradients of a scalar tensor with respect to every
// leaf that requires grad, adding them to the leaves' .grad (so calling it
// for several micro-batches accumulates, as in PyTorch).
func (t *Tensor) Backward() error {
	if err := check("backward", t); err != nil {
		return err
	}
	var e *C.char
	if C.wtg_backward(t.h, nil, &e) != 0 {
		return cError("backward", e)
	}
	return nil
}

// ZeroGrad drops the gradients of the tensors (PyTorch's
// zero_grad(set_to_none=True)).
func ZeroGrad(params []*Tensor) error {
	if len(params) == 0 {
		return nil
	}
	if err := check("zero grad", params...); err != nil {
		return err
	}
	hs := handles(params)
	var e *C.char
	if C.wtg_zero_grad(&hs[0], C.int(len(hs)), &e) != 0 {
		return cError("zero grad", e)
	}
	return nil
}

func handles(ts []*Tensor) []C.wt_tensor {
	hs := make([]C.wt_tensor, len(ts))
	for i, t := range ts {
		hs[i] = t.h
	}
	return hs
}

func (t *Tensor) inplace(op string, code C.int, o *Tensor, s float64) error {
	ins := []*Tensor{t}
	if o != nil {
		ins = append(ins, o)
	}
	if err := check(op, ins...); err != nil {
		return err
	}
	var oh C.wt_tensor
	if o != nil {
		oh = o.h
	}
	var e *C.char
	if C.wtg_inplace(code, t.h, oh, C.double(s), &e) != 0 {
		return cError(op, e)
	}
	return nil
}

// In-place updates. On a parameter (a leaf that requires grad) run them
// inside NoGrad, as PyTorch requires.

// CopyFrom copies src's values into t (broadcasting, converting dtype and
// device).
func (t *Tensor) CopyFrom(src *Tensor) error {
	if src == nil {
		return &Error{Op: "copy", Msg: "nil source"}
	}
	return t.inplace("copy", C.WT_I_COPY, src, 0)
}

// AddInPlace adds alpha*o to t.
func (t *Tensor) AddInPlace(o *Tensor, alpha float64) error {
	if o == nil {
		return &Error{Op: "add in place", Msg: "nil addend"}
	}
	return t.inplace("add in place", C.WT_I_ADD, o, alpha)
}

// MulInPlace multiplies t by o element-wise.
func (t *Tensor) MulInPlace(o *Tensor) error {
	if o == nil {
		return &Error{Op: "mul in place", Msg: "nil factor"}
	}
	return t.inplace("mul in place", C.WT_I_MUL, o, 0)
}

// MulScalarInPlace multiplies t by s.
func (t *Tensor) MulScalarInPlace(s float64) error {
	return t.inplace("mul scalar in place", C.WT_I_MUL_SCALAR, nil, s)
}

// Fill sets every element to v.
func (t *Tensor) Fill(v float64) error { return t.inplace("fill", C.WT_I_FILL, nil, v) }

// Zero sets every element to 0.
func (t *Tensor) Zero() error { return t.inplace("zero", C.WT_I_ZERO, nil, 0) }

// NormalInPlace fills t with N(0, std²) samples from the default generator.
func (t *Tensor) NormalInPlace(std float64) error {
	return t.inplace("normal", C.WT_I_NORMAL, nil, std)
}

// UniformInPlace fills t with U(-bound, bound) samples from the default
// generator.
func (t *Tensor) UniformInPlace(bound float64) error {
	return t.inplace("uniform", C.WT_I_UNIFORM, nil, bound)
}

// ReluInPlace applies ReLU to t in place (relu_) and returns t, or a failed
// tensor, so that it chains like the other ops. Autograd allows it where the
// op that made t does not need its output for backward (batch norm, conv,
// add), as torchvision's ReLU(inplace=True) relies on.
func (t *Tensor) ReluInPlace() *Tensor {
	if err := t.inplace("relu in place", C.WT_I_RELU, nil, 0); err != nil {
		return failed(err)
	}
	return t
}

// Failed returns a failed tensor carrying err: a function that builds a
// tensor from a chain of ops can hand an error of its own down the chain.
func Failed(err error) *Tensor { return failed(err) }

// SGD holds the hyper-parameters of one step of torch.optim.SGD.
type SGD struct {
	LR          float64
	Momentum    float64
	Dampening   float64
	WeightDecay float64
	Nesterov    bool
}

// SGDStep updates params in place from their gradients, exactly as
// torch.optim.SGD.step does (weight decay added to the gradient, then the
// momentum buffer, then Nesterov), in one call without autograd. momentum
// holds one buffer per parameter: pass nil entries on the first step and
// the slice is filled with new tensors that belong to no scope (the caller
// closes them, and saves them in checkpoints). Parameters without a
// gradient are skipped.
func SGDStep(params, momentum []*Tensor, o SGD) error {
	if len(params) != len(momentum) {
		return &Error{Op: "sgd step", Msg: fmt.Sprintf("%d parameters, %d momentum buffers", len(params), len(momentum))}
	}
	if len(params) == 0 {
		return nil
	}
	if err := check("sgd step", params...); err != nil {
		return err
	}
	bufs := make([]C.wt_tensor, len(momentum))
	for i, m := range momentum {
		if m == nil {
			continue
		}
		if err := m.Err(); err != nil {
			return fmt.Errorf("momentum buffer %d: %w", i, err)
		}
		bufs[i] = m.h
	}
	ps := handles(params)
	var e *C.char
	rc := C.wtg_sgd_step(&ps[0], &bufs[0], C.int(len(ps)), C.double(o.LR), C.double(o.Momentum), C.double(o.Dampening),
		C.double(o.WeightDecay), cbool(o.Nesterov), &e)
	// New buffers are owned by the caller even when a later parameter failed.
	for i, m := range momentum {
		if m == nil && bufs[i] != nil {
			momentum[i] = &Tensor{h: bufs[i]}
			watch(momentum[i])
		}
	}
	if rc != 0 {
		return cError("sgd step", e)
	}
	return nil
}
