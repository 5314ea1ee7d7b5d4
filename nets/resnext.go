package nets

import (
	"fmt"
	"strings"

	"weaksup/torch"
)

// Block selects the residual block design. Each design has a block for
// bottleneck archs and one for basic-block archs (Arch.Basic), except
// Bottleneck and Basic, which name He et al.'s post-activation block of
// each shape.
type Block int

const (
	// Bottleneck is torchvision's block (He et al. 2016, ResNet v1.5:
	// stride on the 3x3 conv): conv-BN-ReLU ×2, conv-BN, add, ReLU. As
	// the zero value of Options.Block it means the arch's own design
	// (Arch.Block): Basic for ResNet-n, Plain for plain-n.
	Bottleneck Block = iota
	// PreAct is the pre-activation block of He et al., "Identity Mappings
	// in Deep Residual Networks" (ECCV 2016): BN-ReLU before each conv, an
	// identity path after the add, and a final BN-ReLU before pooling.
	PreAct
	// SkipInit is De & Smith, "Batch Normalization Biases Residual Blocks
	// Towards the Identity Function in Deep Networks" (NeurIPS 2020): no
	// batch norm, biased convs, and the residual branch scaled by a scalar
	// alpha initialized to 0 (or 1/√d, Options.Alpha).
	SkipInit
	// Basic is the basic block of He et al. (2016) for CIFAR:
	// conv-BN-ReLU, conv-BN, add, ReLU (basic-block archs only).
	Basic
	// Plain is the post-activation block without its shortcut: He et
	// al.'s plain networks, which degrade with depth.
	Plain
	// NoNorm is SkipInit without alpha: residual blocks with neither batch
	// norm nor a scaled branch, which De & Smith show diverge when deep.
	NoNorm
	// PlainNoNorm has neither batch norm nor shortcuts: the plain nets of
	// He et al., "Delving Deep into Rectifiers" (ICCV 2015), where the
	// initialization (Options.Init: MSRA or Xavier) decides whether a deep
	// one trains.
	PlainNoNorm
)

var blockNames = []string{"bottleneck", "preact", "skipinit", "basic", "plain", "nonorm", "plain-nonorm"}

func (b Block) String() string {
	if int(b) >= 0 && int(b) < len(blockNames) {
		return blockNames[b]
	}
	return fmt.Sprintf("block(%d)", int(b))
}

// BlockNames lists the block designs as ParseBlock takes them.
func BlockNames() []string { return append([]string(nil), blockNames...) }

// ParseBlock parses one of BlockNames.
func ParseBlock(s string) (Block, error) {
	for i, n := range blockNames {
		if n == s {
			return Block(i), nil
		}
	}
	return 0, fmt.Errorf("parse block %q: want one of %v", s, blockNames)
}

// Shortcut selects the shortcut of a block that changes width or
// resolution (He et al. 2016, §4.1 and §4.2).
type Shortcut int

const (
	// ShortcutAuto is option A for basic-block nets (He et al.'s CIFAR
	// choice, behind their ResNet-20..1202 numbers) and option B
	// otherwise (torchvision's ResNeXt, the pre-activation nets).
	ShortcutAuto Shortcut = iota
	// ShortcutA is the identity with zero padding: x subsampled by the
	// stride, zero channels appended; no parameters.
	ShortcutA
	// ShortcutB is a 1x1 projection conv (with BN in BN designs).
	ShortcutB
)

var shortcutNames = []string{"auto", "A", "B"}

func (s Shortcut) String() string {
	if int(s) >= 0 && int(s) < len(shortcutNames) {
		return shortcutNames[s]
	}
	return fmt.Sprintf("shortcut(%d)", int(s))
}

// ParseShortcut parses "auto", "A" or "B" (either case).
func ParseShortcut(s string) (Shortcut, error) {
	for i, n := range shortcutNames {
		if strings.EqualFold(n, s) {
			return Shortcut(i), nil
		}
	}
	return 0, fmt.Errorf("parse shortcut %q: want auto, A (zero padding) or B (projection)", s)
}

// AlphaInit is the initial value of SkipInit's alpha.
type AlphaInit int

const (
	AlphaZero         AlphaInit = iota // 0: each block starts as its shortcut (De & Smith's choice)
	AlphaInvSqrtDepth                  // 1/√d for d residual blocks
)

var alphaNames = []string{"0", "1/sqrt(d)"}

func (a AlphaInit) String() string {
	if int(a) >= 0 && int(a) < len(alphaNames) {
		return alphaNames[a]
	}
	return fmt.Sprintf("alpha(%d)", int(a))
}

// ParseAlpha parses "0" or "1/sqrt(d)" (also "invsqrt").
func ParseAlpha(s string) (AlphaInit, error) {
	switch s {
	case "0", "zero":
		return AlphaZero, nil
	case "1/sqrt(d)", "invsqrt":
		return AlphaInvSqrtDepth, nil
	}
	return 0, fmt.Errorf("parse alpha %q: want 0 or 1/sqrt(d)", s)
}

// design is what a Block changes in the network: its stem, its residual
// blocks of each shape (nil: not for that shape), whether a BN-ReLU closes
// the last stage, whether blocks have shortcuts and SkipInit's alpha.
type design struct {
	stem       func(b *builder, a Arch) *stem
	bottleneck blockFunc
	basic      blockFunc
	finalBN    bool // "bn_final": the pre-activation net ends on an add
	plain      bool // no shortcuts
	alpha      bool // a scalar alpha scales each residual branch
}

var designs = [...]design{
	Bottleneck:  {stem: newConvBNReLUStem, bottleneck: newBottleneckBlock},
	PreAct:      {stem: newPreActStem, bottleneck: newPreActBlock, basic: newPreActBasicBlock, finalBN: true},
	SkipInit:    {stem: newSkipInitStem, bottleneck: newSkipInitBlock, basic: newSkipInitBasicBlock, alpha: true},
	Basic:       {stem: newConvBNReLUStem, basic: newBasicBlock},
	Plain:       {stem: newConvBNReLUStem, bottleneck: newBottleneckBlock, basic: newBasicBlock, plain: true},
	NoNorm:      {stem: newSkipInitStem, bottleneck: newSkipInitBlock, basic: newSkipInitBasicBlock},
	PlainNoNorm: {stem: newSkipInitStem, bottleneck: newSkipInitBlock, basic: newSkipInitBasicBlock, plain: true},
}

// Options configure NewResNeXt.
type Options struct {
	Arch       Arch
	NumClasses int
	// Block is the block design; the zero value (Bottleneck) takes
	// Arch.Block, so resnet56 is built with Basic blocks and plain56 with
	// Plain ones unless another design is asked for.
	Block Block
	// Shortcut is option A or B where a block changes shape (ShortcutAuto:
	// A for basic blocks, B for bottlenecks).
	Shortcut Shortcut
	// Alpha is SkipInit's initial alpha (AlphaZero by default).
	Alpha AlphaInit
	// Init draws the conv weights: MSRA (He et al., ICCV 2015; the zero
	// value, torchvision's) or Xavier (Glorot & Bengio, AISTATS 2010).
	Init Init
	// ZeroInitLastBN sets the scale γ of the last BN of each Bottleneck
	// or Basic block to zero, so each block starts as the identity (Goyal
	// et al., "Accurate, Large Minibatch SGD", 2017; torchvision's
	// zero_init_residual). It does not apply to PreAct (no BN ends the
	// branch), to the designs without batch norm, or to Plain (there is
	// no shortcut to start as).
	ZeroInitLastBN bool
	// ChannelsLast keeps conv weights, and converts inputs, to the NHWC
	// layout: libtorch's CPU convolutions are much faster that way.
	ChannelsLast bool
	Device       torch.Device
}

// resolve fills the arch's design and shortcut into o and checks that the
// design has blocks of the arch's shape.
func (o *Options) resolve() (design, error) {
	a := o.Arch
	if o.Block == Bottleneck {
		o.Block = a.Block
	}
	if o.Block == Bottleneck && a.Basic {
		o.Block = Basic
	}
	if o.Block < 0 || int(o.Block) >= len(designs) {
		return design{}, fmt.Errorf("new network %q: unknown block %v", a.Name, o.Block)
	}
	d := designs[o.Block]
	switch {
	case a.Basic && d.basic == nil:
		return design{}, fmt.Errorf("new network %q: block %v needs bottleneck blocks, %s has basic blocks (use %v)", a.Name, o.Block, a.Name, Basic)
	case !a.Basic && d.bottleneck == nil:
		return design{}, fmt.Errorf("new network %q: block %v needs basic blocks, %s has bottlenecks (use %v)", a.Name, o.Block, a.Name, Bottleneck)
	}
	if o.Shortcut == ShortcutAuto {
		o.Shortcut = ShortcutB
		if a.Basic {
			o.Shortcut = ShortcutA
		}
	}
	if o.Shortcut != ShortcutA && o.Shortcut != ShortcutB {
		return design{}, fmt.Errorf("new network %q: unknown shortcut %v", a.Name, o.Shortcut)
	}
	if o.Alpha != AlphaZero && o.Alpha != AlphaInvSqrtDepth {
		return design{}, fmt.Errorf("new network %q: unknown alpha init %v", a.Name, o.Alpha)
	}
	if o.ZeroInitLastBN && (o.Block == Plain || o.Block == PlainNoNorm) {
		o.ZeroInitLastBN = false // a plain block that starts at zero passes nothing on
	}
	return d, nil
}

// Param is a named tensor of a model's state_dict.
type Param struct {
	Name   string // torchvision state_dict name, e.g. "layer1.0.conv2.weight"
	Tensor *torch.Tensor
	Buffer bool // running statistics: saved, not trained
}

// ResNeXt is a ResNeXt network whose parameters live in libtorch. It is not
// safe for concurrent use. Close frees its tensors.
type ResNeXt struct {
	opts    Options
	stem    *stem
	stages  [][]residualBlock
	bnFinal *torch.BatchNorm // nil but for PreAct
	fcW     *torch.Tensor
	fcB     *torch.Tensor
	params  []Param
}

// NewResNeXt builds a network initialized as torchvision does: convs by
// o.Init (MSRA by default), BN γ=1 β=0 (γ=0 at the end of each residual
// branch with o.ZeroInitLastBN), the fc layer from PyTorch's default
// uniform init. It draws from libtorch's default generator, so
// torch.ManualSeed first makes it reproducible; it initializes on the CPU
// and then moves to o.Device, so a seed gives the same weights on every
// device.
func NewResNeXt(o Options) (*ResNeXt, error) {
	m := &ResNeXt{}
	b, err := newBuilder(m, &o, 0)
	if err != nil {
		return nil, err
	}
	m.opts = o
	b.build()
	if b.err != nil {
		m.Close()
		return nil, fmt.Errorf("new network %q: %w", o.Arch.Name, b.err)
	}
	return m, nil
}

// newBuilder checks o, fills in its defaults and returns a builder for m.
// side is the input side for Summarize's counts (0 when building).
func newBuilder(m *ResNeXt, o *Options, side int) (*builder, error) {
	a := o.Arch
	if err := a.validate(); err != nil {
		return nil, err
	}
	if o.NumClasses < 1 {
		return nil, fmt.Errorf("new network %q: %d classes", a.Name, o.NumClasses)
	}
	d, err := o.resolve()
	if err != nil {
		return nil, err
	}
	if _, err := o.Init.std(convSpec{Out: 1, In: 1, Kernel: 1}); err != nil {
		return nil, fmt.Errorf("new network %q: %w", a.Name, err)
	}
	m.opts = *o
	return &builder{m: m, design: d, shortcut: o.Shortcut, side: side}, nil
}

// build creates the network's layers in torchvision's module order.
func (b *builder) build() {
	m, a, d := b.m, b.m.opts.Arch, b.design
	m.stem = d.stem(b, a)
	in, side := a.StemWidth, stemOutSide(a, b.side)
	block := d.bottleneck
	if a.Basic {
		block = d.basic
	}
	for s := range a.Layers {
		var stage []residualBlock
		stage, in, side = b.makeStage(block, in, side, a.stage(s))
		m.stages = append(m.stages, stage)
	}
	if d.finalBN {
		m.bnFinal = b.bn("bn_final", in, false)
	}
	m.fcW, m.fcB = b.linear("fc", m.opts.NumClasses, in)
}

// Options returns the options the model was built with.
func (m *ResNeXt) Options() Options { return m.opts }

// Parameters returns every tensor of the state_dict, parameters and
// buffers, in torchvision's order and naming. The slice is new; its
// tensors belong to the model.
func (m *ResNeXt) Parameters() []Param { return append([]Param(nil), m.params...) }

// Trainable returns the tensors an optimizer updates (Parameters without
// buffers), in the order of Parameters.
func (m *ResNeXt) Trainable() []*torch.Tensor {
	var out []*torch.Tensor
	for _, p := range m.params {
		if !p.Buffer {
			out = append(out, p.Tensor)
		}
	}
	return out
}

// Head returns the fc weight and bias (for a linear probe on frozen
// features, or a separate learning rate).
func (m *ResNeXt) Head() []*torch.Tensor { return []*torch.Tensor{m.fcW, m.fcB} }

// NumParameters counts the elements of the trainable tensors.
func (m *ResNeXt) NumParameters() int64 {
	var n int64
	for _, t := range m.Trainable() {
		n += t.Numel()
	}
	return n
}

// Param returns the tensor of a state_dict name, or nil.
func (m *ResNeXt) Param(name string) *torch.Tensor {
	for _, p := range m.params {
		if p.Name == name {
			return p.Tensor
		}
	}
	return nil
}

// Close frees every tensor of the model. It is idempotent.
func (m *ResNeXt) Close() {
	for _, p := range m.params {
		p.Tensor.Close()
	}
}

// Forward returns the logits [N, NumClasses] of images x [N, 3, H, W]. With
// train set, batch norm uses batch statistics and updates its running
// statistics in place (PyTorch's model.train()); otherwise it uses them
// (model.eval()). Intermediate tensors are freed before it returns (autograd
// keeps what backward needs); the logits go to the caller's innermost scope,
// or to the caller, who closes them, when no scope is open.
func (m *ResNeXt) Forward(x *torch.Tensor, train bool) (*torch.Tensor, error) {
	s := torch.NewScope()
	defer s.Close()
	f := m.features(x, train)
	y := torch.Linear(f, m.fcW, m.fcB)
	if err := y.Err(); err != nil {
		return nil, fmt.Errorf("forward %s: %w", m.opts.Arch.Name, err)
	}
	return s.Return(y), nil
}

// Features returns the pooled features [N, FeatureDim] that feed the fc
// layer.
func (m *ResNeXt) Features(x *torch.Tensor, train bool) (*torch.Tensor, error) {
	s := torch.NewScope()
	defer s.Close()
	f := m.features(x, train)
	if err := f.Err(); err != nil {
		return nil, fmt.Errorf("features %s: %w", m.opts.Arch.Name, err)
	}
	return s.Return(f), nil
}

func (m *ResNeXt) features(x *torch.Tensor, train bool) *torch.Tensor {
	if m.opts.ChannelsLast {
		x = x.ToFormat(torch.ChannelsLast)
	}
	h := m.stem.forward(x, train)
	for _, stage := range m.stages {
		for _, blk := range stage {
			h = blk.forward(h, train)
		}
	}
	if m.bnFinal != nil {
		h = m.bnFinal.Forward(h, train).ReluInPlace()
	}
	return torch.AdaptiveAvgPool2d(h, 1, 1).Flatten(1, -1)
}

// ReplaceHead swaps the fc layer for a new one with numClasses outputs,
// initialized as NewResNeXt does, for fine-tuning on a target task. Fetch
// Parameters and Trainable again afterwards.
func (m *ResNeXt) ReplaceHead(numClasses int) error {
	if numClasses < 1 {
		return fmt.Errorf("replace head: %d classes", numClasses)
	}
	var kept []Param
	for _, p := range m.params {
		if p.Name != "fc.weight" && p.Name != "fc.bias" {
			kept = append(kept, p)
		}
	}
	b := &builder{m: &ResNeXt{opts: m.opts}}
	w, bias := b.linear("fc", numClasses, m.opts.Arch.FeatureDim())
	if b.err != nil {
		for _, p := range b.m.params {
			p.Tensor.Close()
		}
		return fmt.Errorf("replace head: %w", b.err)
	}
	m.fcW.Close()
	m.fcB.Close()
	m.fcW, m.fcB = w, bias
	m.params = append(kept, b.m.params...)
	m.opts.NumClasses = numClasses
	return nil
}
