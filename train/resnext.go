package train

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"weaksup/torch"
)

// Arch is a ResNeXt as a table of parameters, in torchvision's terms: stage
// i has Layers[i] Bottleneck blocks of Planes[i] planes (output
// 4·Planes[i] channels); the grouped 3x3 conv of a block has
// int(planes·WidthPerGroup/64)·Groups channels in Groups groups.
type Arch struct {
	Name          string `json:"name"`
	Layers        []int  `json:"layers"`          // blocks per stage
	Planes        []int  `json:"planes"`          // bottleneck planes per stage
	Groups        int    `json:"groups"`          // cardinality C
	WidthPerGroup int    `json:"width_per_group"` // d
	// SmallStem selects a 3x3 stride-1 stem conv without max-pool, for 32–64
	// px inputs; otherwise the ImageNet stem (7x7 stride-2 conv, 3x3
	// stride-2 max-pool).
	SmallStem bool `json:"small_stem"`
	StemWidth int  `json:"stem_width"` // channels of the stem conv
}

// expansion is the Bottleneck's output-to-planes ratio.
const expansion = 4

var archs = []Arch{
	{Name: "resnext50_32x4d", Layers: []int{3, 4, 6, 3}, Planes: []int{64, 128, 256, 512}, Groups: 32, WidthPerGroup: 4, StemWidth: 64},
	{Name: "resnext101_32x4d", Layers: []int{3, 4, 23, 3}, Planes: []int{64, 128, 256, 512}, Groups: 32, WidthPerGroup: 4, StemWidth: 64},
	{Name: "resnext101_32x8d", Layers: []int{3, 4, 23, 3}, Planes: []int{64, 128, 256, 512}, Groups: 32, WidthPerGroup: 8, StemWidth: 64},
	{Name: "resnext101_32x16d", Layers: []int{3, 4, 23, 3}, Planes: []int{64, 128, 256, 512}, Groups: 32, WidthPerGroup: 16, StemWidth: 64},
	{Name: "resnext101_32x32d", Layers: []int{3, 4, 23, 3}, Planes: []int{64, 128, 256, 512}, Groups: 32, WidthPerGroup: 32, StemWidth: 64},
	{Name: "resnext101_32x48d", Layers: []int{3, 4, 23, 3}, Planes: []int{64, 128, 256, 512}, Groups: 32, WidthPerGroup: 48, StemWidth: 64},
	// The CIFAR network of Xie et al. (2017): 3 stages of 3 blocks, 29 layers.
	{Name: "resnext29_8x64d", Layers: []int{3, 3, 3}, Planes: []int{64, 128, 256}, Groups: 8, WidthPerGroup: 64, SmallStem: true, StemWidth: 64},
	// ResNeXt-29 layout at a quarter of its width and 1/8 of its group
	// width: the small net for 32–64 px experiments and benchmarks.
	{Name: "resnext29_small", Layers: []int{3, 3, 3}, Planes: []int{32, 64, 128}, Groups: 8, WidthPerGroup: 8, SmallStem: true, StemWidth: 32},
	// One block per stage: for tests and the demo on 2 CPU cores.
	{Name: "resnext_tiny", Layers: []int{1, 1, 1}, Planes: []int{16, 32, 64}, Groups: 4, WidthPerGroup: 8, SmallStem: true, StemWidth: 16},
}

// ErrUnknownArch is wrapped by LookupArch for a name not in ArchNames.
var ErrUnknownArch = errors.New("unknown architecture")

// LookupArch returns the named architecture.
func LookupArch(name string) (Arch, error) {
	for _, a := range archs {
		if a.Name == name {
			return a, nil
		}
	}
	return Arch{}, fmt.Errorf("look up arch %q (want one of %v): %w", name, ArchNames(), ErrUnknownArch)
}

// ArchNames lists the built-in architectures, sorted.
func ArchNames() []string {
	var out []string
	for _, a := range archs {
		out = append(out, a.Name)
	}
	sort.Strings(out)
	return out
}

// width returns the channels of a stage's grouped conv (torchvision's
// int(planes * (base_width / 64.)) * groups).
func (a Arch) width(stage int) int { return a.Planes[stage] * a.WidthPerGroup / 64 * a.Groups }

// FeatureDim returns the channels of the pooled features (the fc input).
func (a Arch) FeatureDim() int { return a.Planes[len(a.Planes)-1] * expansion }

func (a Arch) validate() error {
	if len(a.Layers) == 0 || len(a.Layers) != len(a.Planes) {
		return fmt.Errorf("arch %q: %d stage block counts for %d plane counts", a.Name, len(a.Layers), len(a.Planes))
	}
	if a.Groups < 1 || a.WidthPerGroup < 1 || a.StemWidth < 1 {
		return fmt.Errorf("arch %q: groups, width per group and stem width must be positive", a.Name)
	}
	for i := range a.Layers {
		if a.Layers[i] < 1 || a.width(i) < a.Groups {
			return fmt.Errorf("arch %q: stage %d has %d blocks and grouped width %d for %d groups", a.Name, i+1, a.Layers[i], a.width(i), a.Groups)
		}
	}
	return nil
}

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

// Options configure NewResNeXt.
type Options struct {
	Arch       Arch
	NumClasses int
	Block      Block
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

type conv struct {
	w, b                   *torch.Tensor
	stride, padding, group int64
}

func (c *conv) forward(x *torch.Tensor) *torch.Tensor {
	return torch.Conv2d(x, c.w, c.b, torch.Conv2dOptions{
		Stride:  [2]int64{c.stride, c.stride},
		Padding: [2]int64{c.padding, c.padding},
		Groups:  c.group,
	})
}

type block struct {
	conv1, conv2, conv3 *conv
	bn1, bn2, bn3       *torch.BatchNorm
	down                *conv            // downsample.0, nil for an identity shortcut
	downBN              *torch.BatchNorm // downsample.1 (Bottleneck only)
	alpha               *torch.Tensor    // SkipInit only
}

// ResNeXt is a ResNeXt network whose parameters live in libtorch. It is not
// safe for concurrent use. Close frees its tensors.
type ResNeXt struct {
	opts    Options
	conv1   *conv
	bn1     *torch.BatchNorm // nil for PreAct with a small stem and for SkipInit
	blocks  [][]*block
	bnFinal *torch.BatchNorm // PreAct only
	fcW     *torch.Tensor
	fcB     *torch.Tensor
	params  []Param
}

// NewResNeXt builds a network initialized as torchvision does: convs from
// He et al.'s (2015) normal init with fan-out (MSRA init), BN γ=1 β=0, the
// fc layer from PyTorch's default uniform init. It draws from libtorch's
// default generator, so torch.ManualSeed first makes it reproducible; it
// initializes on the CPU and then moves to o.Device, so a seed gives the
// same weights on every device.
func NewResNeXt(o Options) (*ResNeXt, error) {
	a := o.Arch
	if err := a.validate(); err != nil {
		return nil, err
	}
	if o.NumClasses < 1 {
		return nil, fmt.Errorf("new resnext %q: %d classes", a.Name, o.NumClasses)
	}
	if o.Block < Bottleneck || o.Block > SkipInit {
		return nil, fmt.Errorf("new resnext %q: unknown block %v", a.Name, o.Block)
	}
	m := &ResNeXt{opts: o}
	b := &builder{m: m}
	hasBN := o.Block != SkipInit
	if a.SmallStem {
		m.conv1 = b.conv("conv1", a.StemWidth, 3, 3, 1, 1, 1, !hasBN)
	} else {
		m.conv1 = b.conv("conv1", a.StemWidth, 3, 7, 2, 3, 1, !hasBN)
	}
	if hasBN && !(o.Block == PreAct && a.SmallStem) {
		m.bn1 = b.bn("bn1", a.StemWidth, false)
	}
	in := a.StemWidth
	for s := range a.Layers {
		var stage []*block
		for i := 0; i < a.Layers[s]; i++ {
			stride := 1
			if s > 0 && i == 0 {
				stride = 2
			}
			stage = append(stage, b.block(fmt.Sprintf("layer%d.%d", s+1, i), in, s, stride))
			in = a.Planes[s] * expansion
		}
		m.blocks = append(m.blocks, stage)
	}
	if o.Block == PreAct {
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
	h := m.conv1.forward(x)
	if m.bn1 != nil {
		h = m.bn1.Forward(h, train)
	}
	if m.bn1 != nil || m.opts.Block == SkipInit {
		h = h.ReluInPlace()
	}
	if !m.opts.Arch.SmallStem {
		h = torch.MaxPool2d(h, [2]int64{3, 3}, [2]int64{2, 2}, [2]int64{1, 1})
	}
	for _, stage := range m.blocks {
		for _, b := range stage {
			h = m.blockForward(b, h, train)
		}
	}
	if m.bnFinal != nil {
		h = m.bnFinal.Forward(h, train).ReluInPlace()
	}
	return torch.AdaptiveAvgPool2d(h, 1, 1).Flatten(1, -1)
}

func (m *ResNeXt) blockForward(b *block, x *torch.Tensor, train bool) *torch.Tensor {
	switch m.opts.Block {
	case PreAct:
		pre := b.bn1.Forward(x, train).ReluInPlace()
		short := x
		if b.down != nil {
			short = b.down.forward(pre)
		}
		h := b.conv1.forward(pre)
		h = b.conv2.forward(b.bn2.Forward(h, train).ReluInPlace())
		h = b.conv3.forward(b.bn3.Forward(h, train).ReluInPlace())
		return addInPlace(h, short)
	case SkipInit:
		h := b.conv1.forward(x).ReluInPlace()
		h = b.conv2.forward(h).ReluInPlace()
		h = b.conv3.forward(h).Mul(b.alpha)
		short := x
		if b.down != nil {
			short = b.down.forward(x)
		}
		return addInPlace(h, short).ReluInPlace()
	}
	// As torchvision's Bottleneck, with its in-place ReLU and add (none of
	// the ops before them needs its output for backward).
	h := b.bn1.Forward(b.conv1.forward(x), train).ReluInPlace()
	h = b.bn2.Forward(b.conv2.forward(h), train).ReluInPlace()
	h = b.bn3.Forward(b.conv3.forward(h), train)
	short := x
	if b.down != nil {
		short = b.downBN.Forward(b.down.forward(x), train)
	}
	return addInPlace(h, short).ReluInPlace()
}

// addInPlace adds o to h in place and returns h.
func addInPlace(h, o *torch.Tensor) *torch.Tensor {
	if err := h.AddInPlace(o, 1); err != nil {
		return torch.Failed(err)
	}
	return h
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

// builder creates and registers the model's tensors, keeping the first
// error.
type builder struct {
	m   *ResNeXt
	err error
}

// param finishes a new tensor: it moves it out of any open scope, to the
// device and layout of the model, marks it trainable, and registers it.
func (b *builder) param(name string, t *torch.Tensor, buffer, channelsLast bool) *torch.Tensor {
	torch.Keep(t)
	o := b.m.opts
	if b.err == nil && o.Device != torch.CPU {
		moved := torch.Keep(t.To(o.Device))
		t.Close()
		t = moved
	}
	if b.err == nil && channelsLast && o.ChannelsLast {
		cl := torch.Keep(t.ToFormat(torch.ChannelsLast))
		t.Close()
		t = cl
	}
	if b.err == nil && !buffer {
		if err := t.SetRequiresGrad(true); err != nil {
			b.err = err
		}
	}
	if b.err == nil && t.Err() != nil {
		b.err = fmt.Errorf("create %s: %w", name, t.Err())
	}
	b.m.params = append(b.m.params, Param{Name: name, Tensor: t, Buffer: buffer})
	return t
}

func (b *builder) fill(t *torch.Tensor, f func(*torch.Tensor) error) *torch.Tensor {
	if b.err == nil {
		if err := f(t); err != nil {
			b.err = err
		}
	}
	return t
}

func (b *builder) conv(name string, out, in, k, stride, pad, groups int, bias bool) *conv {
	// kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = sqrt(2 / (out·k·k)).
	std := math.Sqrt(2 / float64(out*k*k))
	w := b.fill(torch.Empty(torch.Float32, torch.CPU, int64(out), int64(in/groups), int64(k), int64(k)),
		func(t *torch.Tensor) error { return t.NormalInPlace(std) })
	c := &conv{stride: int64(stride), padding: int64(pad), group: int64(groups)}
	c.w = b.param(name+".weight", w, false, true)
	if bias {
		c.b = b.param(name+".bias", torch.Zeros(torch.Float32, torch.CPU, int64(out)), false, false)
	}
	return c
}

func (b *builder) bn(name string, c int, zeroGamma bool) *torch.BatchNorm {
	gamma := torch.Ones(torch.Float32, torch.CPU, int64(c))
	if zeroGamma {
		gamma = torch.Zeros(torch.Float32, torch.CPU, int64(c))
	}
	return &torch.BatchNorm{
		Weight:            b.param(name+".weight", gamma, false, false),
		Bias:              b.param(name+".bias", torch.Zeros(torch.Float32, torch.CPU, int64(c)), false, false),
		RunningMean:       b.param(name+".running_mean", torch.Zeros(torch.Float32, torch.CPU, int64(c)), true, false),
		RunningVar:        b.param(name+".running_var", torch.Ones(torch.Float32, torch.CPU, int64(c)), true, false),
		NumBatchesTracked: b.param(name+".num_batches_tracked", torch.Zeros(torch.Int64, torch.CPU), true, false),
	}
}

func (b *builder) linear(name string, out, in int) (w, bias *torch.Tensor) {
	// nn.Linear's default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
	bound := 1 / math.Sqrt(float64(in))
	uniform := func(t *torch.Tensor) error { return t.UniformInPlace(bound) }
	w = b.param(name+".weight", b.fill(torch.Empty(torch.Float32, torch.CPU, int64(out), int64(in)), uniform), false, false)
	bias = b.param(name+".bias", b.fill(torch.Empty(torch.Float32, torch.CPU, int64(out)), uniform), false, false)
	return w, bias
}

func (b *builder) block(name string, in, stage, stride int) *block {
	a, o := b.m.opts.Arch, b.m.opts
	width, out := a.width(stage), a.Planes[stage]*expansion
	bias := o.Block == SkipInit
	blk := &block{}
	if o.Block == PreAct {
		blk.bn1 = b.bn(name+".bn1", in, false)
	}
	blk.conv1 = b.conv(name+".conv1", width, in, 1, 1, 0, 1, bias)
	if o.Block == Bottleneck {
		blk.bn1 = b.bn(name+".bn1", width, false)
	}
	if o.Block == PreAct {
		blk.bn2 = b.bn(name+".bn2", width, false)
	}
	blk.conv2 = b.conv(name+".conv2", width, width, 3, stride, 1, a.Groups, bias)
	if o.Block == Bottleneck {
		blk.bn2 = b.bn(name+".bn2", width, false)
	}
	if o.Block == PreAct {
		blk.bn3 = b.bn(name+".bn3", width, false)
	}
	blk.conv3 = b.conv(name+".conv3", out, width, 1, 1, 0, 1, bias)
	if o.Block == Bottleneck {
		blk.bn3 = b.bn(name+".bn3", out, o.ZeroInitLastBN)
	}
	if stride != 1 || in != out {
		blk.down = b.conv(name+".downsample.0", out, in, 1, stride, 0, 1, bias)
		if o.Block == Bottleneck {
			blk.downBN = b.bn(name+".downsample.1", out, false)
		}
	}
	if o.Block == SkipInit {
		blk.alpha = b.param(name+".alpha", torch.Zeros(torch.Float32, torch.CPU), false, false)
	}
	return blk
}
