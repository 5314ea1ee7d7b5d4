package nets

import "weaksup/torch"

// stem is the network's first layer ("conv1", "bn1"): a conv, the BN and
// ReLU its design puts after it, and the ImageNet stem's max-pool.
type stem struct {
	conv    *conv
	bn      *torch.BatchNorm // nil: none
	relu    bool
	maxPool bool
}

// stemConv returns the stem conv of a: 3x3 stride 1 for small images
// (Arch.SmallStem), else the ImageNet stem's 7x7 stride 2.
func stemConv(a Arch, side int, bias bool) convSpec {
	if a.SmallStem {
		return convSpec{Out: a.StemWidth, In: 3, Kernel: 3, Stride: 1, Bias: bias, Side: side}
	}
	return convSpec{Out: a.StemWidth, In: 3, Kernel: 7, Stride: 2, Bias: bias, Side: side}
}

// stemOutSide is the side of the stem's output for an input of side: the
// ImageNet stem's conv and max-pool each halve it.
func stemOutSide(a Arch, side int) int {
	if a.SmallStem {
		return side
	}
	return convOutSide(convOutSide(side, 2), 2)
}

// newConvBNReLUStem is torchvision's stem: conv-BN-ReLU, then a 3x3
// stride-2 max-pool on the ImageNet stem.
func newConvBNReLUStem(b *builder, a Arch) *stem {
	s := &stem{conv: b.conv("conv1", stemConv(a, b.side, false)), relu: true, maxPool: !a.SmallStem}
	s.bn = b.bn("bn1", a.StemWidth, false)
	return s
}

// newPreActStem is the stem of He et al.'s pre-activation nets: on small
// images the bare conv (the first block's BN-ReLU pre-activates it); on
// the ImageNet stem conv-BN-ReLU-max-pool as torchvision's.
func newPreActStem(b *builder, a Arch) *stem {
	if a.SmallStem {
		return &stem{conv: b.conv("conv1", stemConv(a, b.side, false))}
	}
	return newConvBNReLUStem(b, a)
}

// newSkipInitStem is the stem without batch norm: a biased conv, ReLU.
func newSkipInitStem(b *builder, a Arch) *stem {
	return &stem{conv: b.conv("conv1", stemConv(a, b.side, true)), relu: true, maxPool: !a.SmallStem}
}

func (s *stem) forward(x *torch.Tensor, train bool) *torch.Tensor {
	h := s.conv.forward(x)
	if s.bn != nil {
		h = s.bn.Forward(h, train)
	}
	if s.relu {
		h = h.ReluInPlace()
	}
	if s.maxPool {
		h = torch.MaxPool2d(h, [2]int64{3, 3}, [2]int64{2, 2}, [2]int64{1, 1})
	}
	return h
}
