package nets

import (
	"fmt"
	"strconv"
	"strings"

	"weaksup/torch"
)

// The CIFAR networks of He et al.: ResNet-n and its plain counterpart
// ("Deep Residual Learning for Image Recognition", CVPR 2016, §4.2): a
// 3x3 conv of 16 channels, three stages of n basic blocks at 16, 32 and 64
// channels on 32, 16 and 8 pixels, global average pooling and the fc
// layer, 6n+2 weighted layers; the stages halve the side in their first
// block, whose shortcut is option A (zero padding) unless Options.Shortcut
// says B. The pre-activation bottleneck nets of "Identity Mappings in Deep
// Residual Networks" (ECCV 2016, ResNet-164 and ResNet-1001) have stages
// of n bottlenecks of 16, 32 and 64 planes (64, 128, 256 channels out),
// 9n+2 layers, and projection shortcuts.
var cifarArchNames = []string{
	"resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet1202",
	"plain20", "plain32", "plain44", "plain56", "plain110",
	"preact_resnet164", "preact_resnet1001",
}

// cifarArch parses resnetN, plainN and preact_resnetN. ok is false for a
// name of no CIFAR family; err is set for a family's name with a depth it
// cannot have.
func cifarArch(name string) (a Arch, ok bool, err error) {
	for _, f := range []struct {
		prefix string
		build  func(int) (Arch, error)
	}{{"preact_resnet", CIFARPreActResNet}, {"resnet", CIFARResNet}, {"plain", CIFARPlain}} {
		rest, found := strings.CutPrefix(name, f.prefix)
		if !found {
			continue
		}
		depth, perr := strconv.Atoi(rest)
		if perr != nil || rest == "" || rest[0] == '+' || rest[0] == '-' {
			return Arch{}, false, nil
		}
		a, err := f.build(depth)
		return a, true, err
	}
	return Arch{}, false, nil
}

// CIFARResNet returns ResNet-depth of He et al. (2016) for CIFAR: depth =
// 6n+2, basic blocks, 16/32/64 channels, Basic design.
// resnet50 and resnet152 are 6n+2 too but name torchvision's ImageNet
// bottleneck nets; they are refused rather than built as CIFAR nets.
func CIFARResNet(depth int) (Arch, error) {
	if depth == 50 || depth == 152 {
		return Arch{}, fmt.Errorf("look up arch resnet%d: that is torchvision's ImageNet bottleneck net, not a CIFAR ResNet (use resnext50_32x4d, or another 6n+2 depth): %w", depth, ErrUnknownArch)
	}
	return cifarBasic("resnet", depth, Basic)
}

// CIFARPlain returns the plain-depth network of He et al. (2016): ResNet-depth
// without its shortcuts (Plain design).
func CIFARPlain(depth int) (Arch, error) { return cifarBasic("plain", depth, Plain) }

func cifarBasic(prefix string, depth int, block Block) (Arch, error) {
	if depth < 8 || (depth-2)%6 != 0 {
		return Arch{}, fmt.Errorf("look up arch %s%d: depth must be 6n+2 with n ≥ 1 (20, 32, 44, 56, 110, 1202): %w", prefix, depth, ErrUnknownArch)
	}
	n := (depth - 2) / 6
	return Arch{Name: fmt.Sprintf("%s%d", prefix, depth), Layers: []int{n, n, n}, Planes: []int{16, 32, 64},
		Groups: 1, WidthPerGroup: 64, SmallStem: true, StemWidth: 16, Basic: true, Block: block}, nil
}

// CIFARPreActResNet returns the pre-activation bottleneck ResNet-depth of
// He et al. (ECCV 2016): depth = 9n+2 (164, 1001).
func CIFARPreActResNet(depth int) (Arch, error) {
	if depth < 11 || (depth-2)%9 != 0 {
		return Arch{}, fmt.Errorf("look up arch preact_resnet%d: depth must be 9n+2 with n ≥ 1 (164, 1001): %w", depth, ErrUnknownArch)
	}
	n := (depth - 2) / 9
	return Arch{Name: fmt.Sprintf("preact_resnet%d", depth), Layers: []int{n, n, n}, Planes: []int{16, 32, 64},
		Groups: 1, WidthPerGroup: 64, SmallStem: true, StemWidth: 16, Block: PreAct}, nil
}

// basicConvs returns the two 3x3 convs of a basic block: the first takes
// the stride and goes to Out channels, the second keeps them.
func (s blockSpec) basicConvs(bias bool) (c1, c2 convSpec) {
	c1 = convSpec{Out: s.Out, In: s.In, Kernel: 3, Stride: s.Stride, Bias: bias, Side: s.Side}
	c2 = convSpec{Out: s.Out, In: s.Out, Kernel: 3, Stride: 1, Bias: bias, Side: s.outSide()}
	return c1, c2
}

// basicBlock is the basic block of He et al. (2016), torchvision's
// BasicBlock: conv-BN-ReLU, conv-BN, add the shortcut, ReLU. In the Plain
// design it has no shortcut and no add.
type basicBlock struct {
	conv1, conv2 *conv
	bn1, bn2     *torch.BatchNorm
	downsample   shortcut // nil: identity
	plain        bool
}

func newBasicBlock(b *builder, name string, s blockSpec) residualBlock {
	c1, c2 := s.basicConvs(false)
	blk := &basicBlock{plain: s.Shortcut == noShortcut}
	blk.conv1 = b.conv(name+".conv1", c1)
	blk.bn1 = b.bn(name+".bn1", c1.Out, false)
	blk.conv2 = b.conv(name+".conv2", c2)
	blk.bn2 = b.bn(name+".bn2", c2.Out, b.m.opts.ZeroInitLastBN)
	blk.downsample = b.newShortcut(name, s, false, true)
	return blk
}

func (blk *basicBlock) forward(x *torch.Tensor, train bool) *torch.Tensor {
	h := blk.bn1.Forward(blk.conv1.forward(x), train).ReluInPlace()
	h = blk.bn2.Forward(blk.conv2.forward(h), train)
	if blk.plain {
		return h.ReluInPlace()
	}
	return addInPlace(h, shortcutOf(blk.downsample, x, train)).ReluInPlace()
}

// preActBasicBlock is the pre-activation basic block of He et al. (ECCV
// 2016; their pre-activation ResNet-110): BN-ReLU-conv twice, then the add.
type preActBasicBlock struct {
	bn1, bn2     *torch.BatchNorm
	conv1, conv2 *conv
	downsample   shortcut // nil: identity
}

func newPreActBasicBlock(b *builder, name string, s blockSpec) residualBlock {
	c1, c2 := s.basicConvs(false)
	blk := &preActBasicBlock{}
	blk.bn1 = b.bn(name+".bn1", c1.In, false)
	blk.conv1 = b.conv(name+".conv1", c1)
	blk.bn2 = b.bn(name+".bn2", c2.In, false)
	blk.conv2 = b.conv(name+".conv2", c2)
	blk.downsample = b.newShortcut(name, s, false, false)
	return blk
}

func (blk *preActBasicBlock) forward(x *torch.Tensor, train bool) *torch.Tensor {
	pre := blk.bn1.Forward(x, train).ReluInPlace()
	short := preActShortcut(blk.downsample, x, pre, train)
	h := blk.conv1.forward(pre)
	h = blk.conv2.forward(blk.bn2.Forward(h, train).ReluInPlace())
	return addInPlace(h, short)
}

// skipInitBasicBlock is the basic block without batch norm (De & Smith
// 2020): biased convs, conv-ReLU-conv, the branch scaled by alpha
// (SkipInit; none in NoNorm), the shortcut added (none in PlainNoNorm),
// ReLU.
type skipInitBasicBlock struct {
	conv1, conv2 *conv
	downsample   shortcut      // nil: identity
	alpha        *torch.Tensor // nil: an unscaled branch
	plain        bool
}

func newSkipInitBasicBlock(b *builder, name string, s blockSpec) residualBlock {
	c1, c2 := s.basicConvs(true)
	blk := &skipInitBasicBlock{plain: s.Shortcut == noShortcut}
	blk.conv1 = b.conv(name+".conv1", c1)
	blk.conv2 = b.conv(name+".conv2", c2)
	blk.downsample = b.newShortcut(name, s, true, false)
	blk.alpha = b.alpha(name + ".alpha")
	return blk
}

func (blk *skipInitBasicBlock) forward(x *torch.Tensor, train bool) *torch.Tensor {
	h := blk.conv1.forward(x).ReluInPlace()
	h = blk.conv2.forward(h)
	return noNormOutput(h, x, blk.alpha, blk.downsample, blk.plain, train)
}

// zeroPadding is the option-A shortcut of He et al. (2016): the identity
// on x subsampled by the stride (x[:, :, ::s, ::s]), with out−in channels
// of zeros appended. It has no parameters.
type zeroPadding struct{ stride, in, out int }

func (z zeroPadding) apply(x *torch.Tensor, _ bool) *torch.Tensor {
	h := x
	if z.stride > 1 {
		s := int64(z.stride)
		h = torch.MaxPool2d(x, [2]int64{1, 1}, [2]int64{s, s}, [2]int64{0, 0})
	}
	if z.out <= z.in {
		return h
	}
	shape := h.Shape()
	dt, err := h.DType()
	if err != nil {
		return torch.Failed(err)
	}
	dev, err := h.Device()
	if err != nil {
		return torch.Failed(err)
	}
	if len(shape) != 4 {
		return torch.Failed(fmt.Errorf("zero-padding shortcut: input has shape %v", shape))
	}
	zeros := torch.Zeros(dt, dev, shape[0], int64(z.out-z.in), shape[2], shape[3])
	if h.IsChannelsLast() {
		// cat keeps channels-last only when every input has it.
		zeros = zeros.ToFormat(torch.ChannelsLast)
	}
	return torch.Cat([]*torch.Tensor{h, zeros}, 1)
}
