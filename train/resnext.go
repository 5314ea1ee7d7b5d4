package train

import (
	"fmt"

	"weaksup/torch"
)

// Block selects the residual block design.
type Block int

const (
	// Bottleneck is torchvision's block (He et al. 2016, ResNet v1.5:
	// stride on the 3x3 conv): conv-BN-ReLU ×2, conv-BN, add, ReLU.
	Bottleneck Block = iota
	// PreAct is the pre-activation block of He et al., "Identity Mappings
	// in Deep Residual Networks" (ECCV 2016): BN-ReLU before each conv, an
	// identity path after the add, and a final BN-ReLU before pooling.
	PreAct
	// SkipInit is De & Smith, "Batch Normalization Biases Residual Blocks
	// Towards the Identity Function in Deep Networks" (NeurIPS 2020): no
	// batch norm, biased convs, and the residual branch scaled by a scalar
	// alpha initialized to 0.
	SkipInit
)

var blockNames = []string{"bottleneck", "preact", "skipinit"}

func (b Block) String() string {
	if int(b) >= 0 && int(b) < len(blockNames) {
		return blockNames[b]
	}
	return fmt.Sprintf("block(%d)", int(b))
}

// ParseBlock parses "bottleneck", "preact" or "skipinit".
func ParseBlock(s string) (Block, error) {
	for i, n := range blockNames {
		if n == s {
			return Block(i), nil
		}
	}
	return 0, fmt.Errorf("parse block %q: want one of %v", s, blockNames)
}

// design is what a Block changes in the network: its stem, its residual
// block, and whether a BN-ReLU closes the last stage.
type design struct {
	stem    func(b *builder, a Arch) *stem
	block   blockFunc
	finalBN bool // "bn_final": the pre-activation net ends on an add
}

var designs = [...]design{
	Bottleneck: {stem: newConvBNReLUStem, block: newBottleneckBlock},
	PreAct:     {stem: newPreActStem, block: newPreActBlock, finalBN: true},
	SkipInit:   {stem: newSkipInitStem, block: newSkipInitBlock},
}

// Options configure NewResNeXt.
type Options struct {
	Arch       Arch
	NumClasses int
	Block      Block
	// Init draws the conv weights: MSRA (He et al., ICCV 2015; the zero
	// value, torchvision's) or Xavier (Glorot & Bengio, AISTATS 2010).
	Init Init
	// ZeroInitLastBN sets the scale γ of the last BN of each Bottleneck to
	// zero, so each block starts as the identity (Goyal et al., "Accurate,
	// Large Minibatch SGD", 2017; torchvision's zero_init_residual). It
	// does not apply to PreAct (no BN ends the branch) or SkipInit (alpha
	// starts at 0 already).
	ZeroInitLastBN bool
	// ChannelsLast keeps conv weights, and converts inputs, to the NHWC
	// layout: libtorch's CPU convolutions are much faster that way.
	ChannelsLast bool
	Device       torch.Device
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
	a := o.Arch
	if err := a.validate(); err != nil {
		return nil, err
	}
	if o.NumClasses < 1 {
		return nil, fmt.Errorf("new resnext %q: %d classes", a.Name, o.NumClasses)
	}
	if o.Block < 0 || int(o.Block) >= len(designs) {
		return nil, fmt.Errorf("new resnext %q: unknown block %v", a.Name, o.Block)
	}
	if _, err := o.Init.std(convSpec{Out: 1, In: 1, Kernel: 1}); err != nil {
		return nil, fmt.Errorf("new resnext %q: %w", a.Name, err)
	}
	d := designs[o.Block]
	m := &ResNeXt{opts: o}
	b := &builder{m: m}
	m.stem = d.stem(b, a)
	in := a.StemWidth
	for s := range a.Layers {
		var stage []residualBlock
		stage, in = b.makeStage(d.block, in, a.stage(s))
		m.stages = append(m.stages, stage)
	}
	if d.finalBN {
		m.bnFinal = b.bn("bn_final", in, false)
	}
	m.fcW, m.fcB = b.linear("fc", o.NumClasses, in)
	if b.err != nil {
		m.Close()
		return nil, fmt.Errorf("new resnext %q: %w", a.Name, b.err)
	}
	return m, nil
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
