package nets

import (
	"fmt"

	"weaksup/torch"
)

// residualBlock is one block of a stage. Each design is a type of its own;
// its constructor registers its tensors in torchvision's module order.
type residualBlock interface {
	forward(x *torch.Tensor, train bool) *torch.Tensor
}

var (
	_ residualBlock = (*bottleneckBlock)(nil)
	_ residualBlock = (*preActBlock)(nil)
	_ residualBlock = (*skipInitBlock)(nil)
)

// blockFunc creates the block called name (e.g. "layer2.0") of shape s.
type blockFunc func(b *builder, name string, s blockSpec) residualBlock

// stageSpec is one stage of an Arch, as makeStage builds it.
type stageSpec struct {
	Name   string // state_dict prefix: "layer1"
	Blocks int
	Width  int // channels of the grouped 3x3 conv
	Out    int // channels out of each block
	Groups int // cardinality: groups of the 3x3 conv
	Stride int // of the first block
}

// blockSpec is the shape of one block.
type blockSpec struct {
	In, Width, Out int // channels: into the block, of its 3x3 conv, out of it
	Groups         int
	Stride         int
	// Side is the spatial side of the block's input (0: unknown); it only
	// feeds the multiply-add counts of Summarize.
	Side int
	// Shortcut is the block's shortcut path.
	Shortcut shortcutKind
}

// shortcutKind is the shortcut of one block.
type shortcutKind int

const (
	identityShortcut shortcutKind = iota // x itself
	projectShortcut                      // option B: 1x1 conv (torchvision's downsample)
	zeroPadShortcut                      // option A: x subsampled, zero channels appended
	noShortcut                           // a plain block: no shortcut, no add
)

// outSide is the side of the block's output.
func (s blockSpec) outSide() int { return convOutSide(s.Side, s.Stride) }

// makeStage builds a stage as torchvision's _make_layer does: s.Blocks
// blocks of one design, the first taking the stride and, when the stride
// or the width changes, the shortcut of option (the 1x1 projection,
// option B, or the zero-padding identity, option A); the others keep the
// identity. Plain designs have no shortcuts. in and side are the channels
// and spatial side into the stage; it returns the blocks and the channels
// and side out of it.
func (b *builder) makeStage(newBlock blockFunc, in, side int, s stageSpec) ([]residualBlock, int, int) {
	blocks := make([]residualBlock, 0, s.Blocks)
	for i := range s.Blocks {
		bs := blockSpec{In: in, Width: s.Width, Out: s.Out, Groups: s.Groups, Stride: 1, Side: side}
		if i == 0 {
			bs.Stride = s.Stride
		}
		switch {
		case b.design.plain:
			bs.Shortcut = noShortcut
		case bs.Stride != 1 || bs.In != bs.Out:
			bs.Shortcut = projectShortcut
			if b.shortcut == ShortcutA {
				bs.Shortcut = zeroPadShortcut
			}
		}
		blocks = append(blocks, newBlock(b, fmt.Sprintf("%s.%d", s.Name, i), bs))
		in, side = s.Out, bs.outSide()
	}
	return blocks, in, side
}

// bottleneckConvs returns the three convs of a Bottleneck-shaped block:
// 1x1 reduce to Width, grouped 3x3 with the stride (ResNet v1.5; groups on
// the 3x3 conv only, Xie et al., CVPR 2017), 1x1 expand to Out.
func (s blockSpec) bottleneckConvs(bias bool) (c1, c2, c3 convSpec) {
	c1 = convSpec{Out: s.Width, In: s.In, Kernel: 1, Stride: 1, Bias: bias, Side: s.Side}
	c2 = convSpec{Out: s.Width, In: s.Width, Kernel: 3, Stride: s.Stride, Groups: s.Groups, Bias: bias, Side: s.Side}
	c3 = convSpec{Out: s.Out, In: s.Width, Kernel: 1, Stride: 1, Bias: bias, Side: s.outSide()}
	return c1, c2, c3
}

// projectionConv returns the 1x1 conv of the projection shortcut.
func (s blockSpec) projectionConv(bias bool) convSpec {
	return convSpec{Out: s.Out, In: s.In, Kernel: 1, Stride: s.Stride, Bias: bias, Side: s.Side}
}

// shortcut is a block's shortcut path where it is not the identity: a
// projection (option B) or zero padding (option A). A nil shortcut is the
// identity.
type shortcut interface {
	apply(x *torch.Tensor, train bool) *torch.Tensor
}

var (
	_ shortcut = (*projection)(nil)
	_ shortcut = zeroPadding{}
)

// newShortcut returns the shortcut of s called name+".downsample": a
// projection (with a BN after its conv when bn), zero padding, or nil for
// the identity and for plain blocks.
func (b *builder) newShortcut(name string, s blockSpec, bias, bn bool) shortcut {
	switch s.Shortcut {
	case projectShortcut:
		p := &projection{conv: b.conv(name+".downsample.0", s.projectionConv(bias))}
		if bn {
			p.bn = b.bn(name+".downsample.1", s.Out, false)
		}
		return p
	case zeroPadShortcut:
		return zeroPadding{stride: s.Stride, in: s.In, out: s.Out}
	}
	return nil
}

// shortcutOf returns x through sc, or x itself for the identity (nil).
func shortcutOf(sc shortcut, x *torch.Tensor, train bool) *torch.Tensor {
	if sc == nil {
		return x
	}
	return sc.apply(x, train)
}

// projection is a 1x1 projection shortcut: downsample.0 (a conv) and, in
// designs with batch norm after it, downsample.1.
type projection struct {
	conv *conv
	bn   *torch.BatchNorm // nil: none
}

func (p *projection) apply(x *torch.Tensor, train bool) *torch.Tensor {
	h := p.conv.forward(x)
	if p.bn != nil {
		h = p.bn.Forward(h, train)
	}
	return h
}

// bottleneckBlock is torchvision's Bottleneck (He et al., "Deep Residual
// Learning for Image Recognition", CVPR 2016): conv-BN-ReLU ×2, conv-BN,
// add the shortcut, ReLU. In the Plain design it has no shortcut and no
// add.
type bottleneckBlock struct {
	conv1, conv2, conv3 *conv
	bn1, bn2, bn3       *torch.BatchNorm
	downsample          shortcut // nil: identity
	plain               bool
}

func newBottleneckBlock(b *builder, name string, s blockSpec) residualBlock {
	c1, c2, c3 := s.bottleneckConvs(false)
	blk := &bottleneckBlock{plain: s.Shortcut == noShortcut}
	blk.conv1 = b.conv(name+".conv1", c1)
	blk.bn1 = b.bn(name+".bn1", c1.Out, false)
	blk.conv2 = b.conv(name+".conv2", c2)
	blk.bn2 = b.bn(name+".bn2", c2.Out, false)
	blk.conv3 = b.conv(name+".conv3", c3)
	blk.bn3 = b.bn(name+".bn3", c3.Out, b.m.opts.ZeroInitLastBN)
	blk.downsample = b.newShortcut(name, s, false, true)
	return blk
}

// forward runs the block as torchvision does, with its in-place ReLU and
// add (none of the ops before them needs its output for backward).
func (blk *bottleneckBlock) forward(x *torch.Tensor, train bool) *torch.Tensor {
	h := blk.bn1.Forward(blk.conv1.forward(x), train).ReluInPlace()
	h = blk.bn2.Forward(blk.conv2.forward(h), train).ReluInPlace()
	h = blk.bn3.Forward(blk.conv3.forward(h), train)
	if blk.plain {
		return h.ReluInPlace()
	}
	return addInPlace(h, shortcutOf(blk.downsample, x, train)).ReluInPlace()
}

// preActBlock is the pre-activation Bottleneck of He et al., "Identity
// Mappings in Deep Residual Networks" (ECCV 2016): BN-ReLU before each
// conv, and nothing after the add, so the shortcut is an identity path
// from block to block. A projection shortcut takes the pre-activated
// input and has no BN; zero padding takes the input itself.
type preActBlock struct {
	bn1, bn2, bn3       *torch.BatchNorm
	conv1, conv2, conv3 *conv
	downsample          shortcut // nil: identity
}

func newPreActBlock(b *builder, name string, s blockSpec) residualBlock {
	c1, c2, c3 := s.bottleneckConvs(false)
	blk := &preActBlock{}
	blk.bn1 = b.bn(name+".bn1", c1.In, false)
	blk.conv1 = b.conv(name+".conv1", c1)
	blk.bn2 = b.bn(name+".bn2", c2.In, false)
	blk.conv2 = b.conv(name+".conv2", c2)
	blk.bn3 = b.bn(name+".bn3", c3.In, false)
	blk.conv3 = b.conv(name+".conv3", c3)
	blk.downsample = b.newShortcut(name, s, false, false)
	return blk
}

func (blk *preActBlock) forward(x *torch.Tensor, train bool) *torch.Tensor {
	pre := blk.bn1.Forward(x, train).ReluInPlace()
	short := preActShortcut(blk.downsample, x, pre, train)
	h := blk.conv1.forward(pre)
	h = blk.conv2.forward(blk.bn2.Forward(h, train).ReluInPlace())
	h = blk.conv3.forward(blk.bn3.Forward(h, train).ReluInPlace())
	return addInPlace(h, short)
}

// preActShortcut is the shortcut of a pre-activation block: a projection
// takes the pre-activated input pre, the identity and zero padding take x.
func preActShortcut(sc shortcut, x, pre *torch.Tensor, train bool) *torch.Tensor {
	if p, ok := sc.(*projection); ok {
		return p.apply(pre, train)
	}
	return shortcutOf(sc, x, train)
}

// skipInitBlock is De & Smith, "Batch Normalization Biases Residual Blocks
// Towards the Identity Function in Deep Networks" (NeurIPS 2020): no batch
// norm, biased convs, and the residual branch scaled by a scalar alpha
// that starts at 0 (or 1/√d, Options.Alpha), so each block starts as its
// shortcut. The NoNorm and PlainNoNorm designs build it without alpha
// (and without the shortcut): the networks SkipInit is compared with.
type skipInitBlock struct {
	conv1, conv2, conv3 *conv
	downsample          shortcut      // nil: identity
	alpha               *torch.Tensor // nil: NoNorm (an unscaled branch)
	plain               bool
}

func newSkipInitBlock(b *builder, name string, s blockSpec) residualBlock {
	c1, c2, c3 := s.bottleneckConvs(true)
	blk := &skipInitBlock{plain: s.Shortcut == noShortcut}
	blk.conv1 = b.conv(name+".conv1", c1)
	blk.conv2 = b.conv(name+".conv2", c2)
	blk.conv3 = b.conv(name+".conv3", c3)
	blk.downsample = b.newShortcut(name, s, true, false)
	blk.alpha = b.alpha(name + ".alpha")
	return blk
}

func (blk *skipInitBlock) forward(x *torch.Tensor, train bool) *torch.Tensor {
	h := blk.conv1.forward(x).ReluInPlace()
	h = blk.conv2.forward(h).ReluInPlace()
	h = blk.conv3.forward(h)
	return noNormOutput(h, x, blk.alpha, blk.downsample, blk.plain, train)
}

// noNormOutput ends a block without batch norm: the branch h scaled by
// alpha (when the design has one), plus the shortcut of x (unless plain),
// then ReLU.
func noNormOutput(h, x, alpha *torch.Tensor, sc shortcut, plain, train bool) *torch.Tensor {
	if alpha != nil {
		h = h.Mul(alpha)
	}
	if !plain {
		h = addInPlace(h, shortcutOf(sc, x, train))
	}
	return h.ReluInPlace()
}
