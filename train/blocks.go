package train

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
	// Project gives the block a 1x1 projection shortcut (torchvision's
	// downsample) instead of the identity.
	Project bool
}

// makeStage builds a stage as torchvision's _make_layer does: s.Blocks
// blocks of one design, the first taking the stride and, when the stride
// or the width changes, a 1x1 projection shortcut; the others keep the
// identity. in is the channels into the stage; it returns the blocks and
// the channels out of it.
func (b *builder) makeStage(newBlock blockFunc, in int, s stageSpec) ([]residualBlock, int) {
	blocks := make([]residualBlock, 0, s.Blocks)
	for i := range s.Blocks {
		bs := blockSpec{In: in, Width: s.Width, Out: s.Out, Groups: s.Groups, Stride: 1}
		if i == 0 {
			bs.Stride = s.Stride
		}
		bs.Project = bs.Stride != 1 || bs.In != bs.Out
		blocks = append(blocks, newBlock(b, fmt.Sprintf("%s.%d", s.Name, i), bs))
		in = s.Out
	}
	return blocks, in
}

// bottleneckConvs returns the three convs of a Bottleneck-shaped block:
// 1x1 reduce to Width, grouped 3x3 with the stride (ResNet v1.5; groups on
// the 3x3 conv only, Xie et al., CVPR 2017), 1x1 expand to Out.
func (s blockSpec) bottleneckConvs(bias bool) (c1, c2, c3 convSpec) {
	c1 = convSpec{Out: s.Width, In: s.In, Kernel: 1, Stride: 1, Bias: bias}
	c2 = convSpec{Out: s.Width, In: s.Width, Kernel: 3, Stride: s.Stride, Groups: s.Groups, Bias: bias}
	c3 = convSpec{Out: s.Out, In: s.Width, Kernel: 1, Stride: 1, Bias: bias}
	return c1, c2, c3
}

// projectionConv returns the 1x1 conv of the projection shortcut.
func (s blockSpec) projectionConv(bias bool) convSpec {
	return convSpec{Out: s.Out, In: s.In, Kernel: 1, Stride: s.Stride, Bias: bias}
}

// projection is a 1x1 projection shortcut: downsample.0 (a conv) and, in
// designs with batch norm after it, downsample.1.
type projection struct {
	conv *conv
	bn   *torch.BatchNorm // nil: none
}

// shortcut returns x through p, or x itself when p is nil (the identity).
func (p *projection) shortcut(x *torch.Tensor, train bool) *torch.Tensor {
	if p == nil {
		return x
	}
	h := p.conv.forward(x)
	if p.bn != nil {
		h = p.bn.Forward(h, train)
	}
	return h
}

// bottleneckBlock is torchvision's Bottleneck (He et al., "Deep Residual
// Learning for Image Recognition", CVPR 2016): conv-BN-ReLU ×2, conv-BN,
// add the shortcut, ReLU.
type bottleneckBlock struct {
	conv1, conv2, conv3 *conv
	bn1, bn2, bn3       *torch.BatchNorm
	downsample          *projection // nil: identity
}

func newBottleneckBlock(b *builder, name string, s blockSpec) residualBlock {
	c1, c2, c3 := s.bottleneckConvs(false)
	blk := &bottleneckBlock{}
	blk.conv1 = b.conv(name+".conv1", c1)
	blk.bn1 = b.bn(name+".bn1", c1.Out, false)
	blk.conv2 = b.conv(name+".conv2", c2)
	blk.bn2 = b.bn(name+".bn2", c2.Out, false)
	blk.conv3 = b.conv(name+".conv3", c3)
	blk.bn3 = b.bn(name+".bn3", c3.Out, b.m.opts.ZeroInitLastBN)
	if s.Project {
		blk.downsample = &projection{conv: b.conv(name+".downsample.0", s.projectionConv(false))}
		blk.downsample.bn = b.bn(name+".downsample.1", s.Out, false)
	}
	return blk
}

// forward runs the block as torchvision does, with its in-place ReLU and
// add (none of the ops before them needs its output for backward).
func (blk *bottleneckBlock) forward(x *torch.Tensor, train bool) *torch.Tensor {
	h := blk.bn1.Forward(blk.conv1.forward(x), train).ReluInPlace()
	h = blk.bn2.Forward(blk.conv2.forward(h), train).ReluInPlace()
	h = blk.bn3.Forward(blk.conv3.forward(h), train)
	return addInPlace(h, blk.downsample.shortcut(x, train)).ReluInPlace()
}

// preActBlock is the pre-activation Bottleneck of He et al., "Identity
// Mappings in Deep Residual Networks" (ECCV 2016): BN-ReLU before each
// conv, and nothing after the add, so the shortcut is an identity path
// from block to block. A projection shortcut takes the pre-activated
// input and has no BN.
type preActBlock struct {
	bn1, bn2, bn3       *torch.BatchNorm
	conv1, conv2, conv3 *conv
	downsample          *projection // nil: identity
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
	if s.Project {
		blk.downsample = &projection{conv: b.conv(name+".downsample.0", s.projectionConv(false))}
	}
	return blk
}

func (blk *preActBlock) forward(x *torch.Tensor, train bool) *torch.Tensor {
	pre := blk.bn1.Forward(x, train).ReluInPlace()
	short := x
	if blk.downsample != nil {
		short = blk.downsample.shortcut(pre, train)
	}
	h := blk.conv1.forward(pre)
	h = blk.conv2.forward(blk.bn2.Forward(h, train).ReluInPlace())
	h = blk.conv3.forward(blk.bn3.Forward(h, train).ReluInPlace())
	return addInPlace(h, short)
}

// skipInitBlock is De & Smith, "Batch Normalization Biases Residual Blocks
// Towards the Identity Function in Deep Networks" (NeurIPS 2020): no batch
// norm, biased convs, and the residual branch scaled by a scalar alpha
// that starts at 0, so each block starts as its shortcut.
type skipInitBlock struct {
	conv1, conv2, conv3 *conv
	downsample          *projection // nil: identity
	alpha               *torch.Tensor
}

func newSkipInitBlock(b *builder, name string, s blockSpec) residualBlock {
	c1, c2, c3 := s.bottleneckConvs(true)
	blk := &skipInitBlock{}
	blk.conv1 = b.conv(name+".conv1", c1)
	blk.conv2 = b.conv(name+".conv2", c2)
	blk.conv3 = b.conv(name+".conv3", c3)
	if s.Project {
		blk.downsample = &projection{conv: b.conv(name+".downsample.0", s.projectionConv(true))}
	}
	blk.alpha = b.scalar(name + ".alpha")
	return blk
}

func (blk *skipInitBlock) forward(x *torch.Tensor, train bool) *torch.Tensor {
	h := blk.conv1.forward(x).ReluInPlace()
	h = blk.conv2.forward(h).ReluInPlace()
	h = blk.conv3.forward(h).Mul(blk.alpha)
	return addInPlace(h, blk.downsample.shortcut(x, train)).ReluInPlace()
}
