package torch

/*
#include "bridge.h"
*/
import "C"

// Neural-network ops, functional as in torch.nn.functional: the caller
// holds the weights.

// Conv2dOptions are the hyper-parameters of Conv2d. Zero values mean stride
// 1, padding 0, dilation 1, groups 1.
type Conv2dOptions struct {
	Stride   [2]int64
	Padding  [2]int64
	Dilation [2]int64
	Groups   int64
}

func orOne(v [2]int64) [2]int64 {
	if v[0] == 0 {
		v[0] = 1
	}
	if v[1] == 0 {
		v[1] = 1
	}
	return v
}

// Conv2d convolves x [N, C, H, W] with w [O, C/groups, kh, kw] and adds the
// optional bias [O]. Channels-last inputs and weights give a channels-last
// output and use libtorch's channels-last kernels.
func Conv2d(x, w, bias *Tensor, o Conv2dOptions) *Tensor {
	b, err := optHandle(bias)
	if err != nil {
		return failed(err)
	}
	stride, dil, pad := orOne(o.Stride), orOne(o.Dilation), o.Padding
	groups := o.Groups
	if groups == 0 {
		groups = 1
	}
	return call("conv2d", func(out *C.wt_tensor, e **C.char) C.int {
		return C.wtg_conv2d(x.h, w.h, b, (*C.int64_t)(&stride[0]), (*C.int64_t)(&pad[0]), (*C.int64_t)(&dil[0]),
			C.int64_t(groups), out, e)
	}, x, w)
}

// BatchNorm holds the tensors of one batch-norm layer. Weight and Bias are
// the affine parameters (may be nil), RunningMean, RunningVar and
// NumBatchesTracked the buffers (may be nil; then training mode uses batch
// statistics only and eval mode is an error).
type BatchNorm struct {
	Weight, Bias                               *Tensor
	RunningMean, RunningVar, NumBatchesTracked *Tensor
	Momentum, Eps                              float64 // 0 means PyTorch's 0.1 and 1e-5
}

// Forward normalizes x over all dims but 1. With train set it uses batch
// statistics and updates the running statistics in place, as
// torch.nn.BatchNorm2d does in train mode; otherwise it uses the running
// statistics.
func (bn *BatchNorm) Forward(x *Tensor, train bool) *Tensor {
	hs := make([]C.wt_tensor, 5)
	for i, t := range []*Tensor{bn.Weight, bn.Bias, bn.RunningMean, bn.RunningVar, bn.NumBatchesTracked} {
		h, err := optHandle(t)
		if err != nil {
			return failed(err)
		}
		hs[i] = h
	}
	mom, eps := bn.Momentum, bn.Eps
	if mom == 0 {
		mom = 0.1
	}
	if eps == 0 {
		eps = 1e-5
	}
	return call("batch norm", func(out *C.wt_tensor, e **C.char) C.int {
		return C.wtg_batch_norm(x.h, hs[0], hs[1], hs[2], hs[3], hs[4], cbool(train), C.double(mom), C.double(eps), out, e)
	}, x)
}

// MaxPool2d takes the maximum over kernel windows.
func MaxPool2d(x *Tensor, kernel, stride, padding [2]int64) *Tensor {
	return call("max pool2d", func(out *C.wt_tensor, e **C.char) C.int {
		return C.wtg_max_pool2d(x.h, (*C.int64_t)(&kernel[0]), (*C.int64_t)(&stride[0]), (*C.int64_t)(&padding[0]), 0, out, e)
	}, x)
}

// AvgPool2d averages over kernel windows (padding counted, as PyTorch's
// default).
func AvgPool2d(x *Tensor, kernel, stride, padding [2]int64) *Tensor {
	return call("avg pool2d", func(out *C.wt_tensor, e **C.char) C.int {
		return C.wtg_avg_pool2d(x.h, (*C.int64_t)(&kernel[0]), (*C.int64_t)(&stride[0]), (*C.int64_t)(&padding[0]), 0, 1, out, e)
	}, x)
}

// AdaptiveAvgPool2d averages x [N, C, H, W] down to [N, C, h, w].
func AdaptiveAvgPool2d(x *Tensor, h, w int64) *Tensor {
	size := [2]int64{h, w}
	return call("adaptive avg pool2d", func(out *C.wt_tensor, e **C.char) C.int {
		return C.wtg_adaptive_avg_pool2d(x.h, (*C.int64_t)(&size[0]), out, e)
	}, x)
}

// Linear returns x wᵀ + bias for x [..., in], w [out, in], bias [out] (may
// be nil).
func Linear(x, w, bias *Tensor) *Tensor {
	b, err := optHandle(bias)
	if err != nil {
		return failed(err)
	}
	return call("linear", func(out *C.wt_tensor, e **C.char) C.int { return C.wtg_linear(x.h, w.h, b, out, e) }, x, w)
}

// BCEWithLogits is torch.nn.functional.binary_cross_entropy_with_logits;
// weight and posWeight may be nil.
func BCEWithLogits(logits, target, weight, posWeight *Tensor, r Reduction) *Tensor {
	w, err := optHandle(weight)
	if err != nil {
		return failed(err)
	}
	pw, err := optHandle(posWeight)
	if err != nil {
		return failed(err)
	}
	return call("bce with logits", func(out *C.wt_tensor, e **C.char) C.int {
		return C.wtg_bce_with_logits(logits.h, target.h, w, pw, C.int(r), out, e)
	}, logits, target)
}

// SoftCrossEntropy returns the mean over rows of -Σ_j target_ij ·
// log_softmax(logits)_ij for logits and target of shape [N, K]: with target
// rows of 1/k on an image's k labels this is the paper's c-of-K softmax loss.
func SoftCrossEntropy(logits, target *Tensor) *Tensor {
	return call("soft cross entropy", func(out *C.wt_tensor, e **C.char) C.int {
		return C.wtg_soft_cross_entropy(logits.h, target.h, out, e)
	}, logits, target)
}
