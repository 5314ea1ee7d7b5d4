package nets

import (
	"fmt"
	"math"
	"strings"

	"weaksup/torch"
)

// Init selects how NewResNeXt draws conv weights.
type Init int

const (
	// MSRA is He et al., "Delving Deep into Rectifiers" (ICCV 2015), as
	// torchvision's ResNet applies it (kaiming_normal_, mode="fan_out",
	// nonlinearity="relu"): normal with std sqrt(2 / (out·k·k)), groups
	// ignored as PyTorch does. The default.
	MSRA Init = iota
	// Xavier is Glorot & Bengio, "Understanding the difficulty of training
	// deep feedforward neural networks" (AISTATS 2010), as xavier_normal_:
	// normal with std sqrt(2 / (fan_in + fan_out)), fan_in = in/groups·k·k.
	Xavier
)

var initNames = []string{"msra", "xavier"}

func (i Init) String() string {
	if int(i) >= 0 && int(i) < len(initNames) {
		return initNames[i]
	}
	return fmt.Sprintf("init(%d)", int(i))
}

// std returns the standard deviation of a conv weight [out, in/groups, k, k].
func (i Init) std(c convSpec) (float64, error) {
	fanOut := float64(c.Out * c.Kernel * c.Kernel)
	fanIn := float64(c.In / c.groups() * c.Kernel * c.Kernel)
	switch i {
	case MSRA:
		return math.Sqrt(2 / fanOut), nil
	case Xavier:
		return math.Sqrt(2 / (fanIn + fanOut)), nil
	}
	return 0, fmt.Errorf("unknown init %v", i)
}

// convSpec is a conv layer, named field by field. Padding is always
// Kernel/2 ("same" for odd kernels at stride 1), as every conv of the
// family has it.
type convSpec struct {
	Out, In int // channels
	Kernel  int // square kernel size
	Stride  int
	Groups  int  // 0 or 1: a dense conv
	Bias    bool // only without batch norm after it
	Side    int  // spatial side of the input, for Summarize (0: unknown)
}

func (c convSpec) groups() int { return max(c.Groups, 1) }

// weights is the number of elements of the conv's weight.
func (c convSpec) weights() int64 {
	return int64(c.Out) * int64(c.In/c.groups()) * int64(c.Kernel) * int64(c.Kernel)
}

// convOutSide is the output side of a conv (or pool) with padding
// kernel/2 and an odd kernel on an input of side.
func convOutSide(side, stride int) int {
	if side <= 0 {
		return 0
	}
	return (side-1)/stride + 1
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

// addInPlace adds o to h in place and returns h.
func addInPlace(h, o *torch.Tensor) *torch.Tensor {
	if err := h.AddInPlace(o, 1); err != nil {
		return torch.Failed(err)
	}
	return h
}

// builder creates and registers the model's tensors, keeping the first
// error. The order of its calls is the state_dict order and the order of
// the draws from libtorch's generator, so it must follow torchvision's
// module order.
type builder struct {
	m        *ResNeXt
	design   design
	shortcut Shortcut
	side     int // input side, for Summarize
	// sum, when set, makes the builder count instead of create: no
	// tensor is made and no libtorch call happens (Summarize).
	sum *summaryCounter
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

// conv creates a conv layer with weights drawn by Options.Init and a zero
// bias.
func (b *builder) conv(name string, c convSpec) *conv {
	std, err := b.m.opts.Init.std(c)
	if err != nil && b.err == nil {
		b.err = err
	}
	if b.sum != nil {
		n := c.weights()
		bias := int64(0)
		if c.Bias {
			bias = int64(c.Out)
		}
		out := convOutSide(c.Side, c.Stride)
		b.sum.add(name, n+bias, n+bias, n*int64(out)*int64(out), !strings.Contains(name, ".downsample."))
		return &conv{}
	}
	w := b.fill(torch.Empty(torch.Float32, torch.CPU, int64(c.Out), int64(c.In/c.groups()), int64(c.Kernel), int64(c.Kernel)),
		func(t *torch.Tensor) error { return t.NormalInPlace(std) })
	l := &conv{stride: int64(c.Stride), padding: int64(c.Kernel / 2), group: int64(c.groups())}
	l.w = b.param(name+".weight", w, false, true)
	if c.Bias {
		l.b = b.param(name+".bias", torch.Zeros(torch.Float32, torch.CPU, int64(c.Out)), false, false)
	}
	return l
}

// bn creates a batch norm of c channels with γ=1 β=0, or γ=0 with
// zeroGamma (Options.ZeroInitLastBN).
func (b *builder) bn(name string, c int, zeroGamma bool) *torch.BatchNorm {
	if b.sum != nil {
		b.sum.add(name, 2*int64(c), 0, 0, false)
		return &torch.BatchNorm{}
	}
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

// linear creates a fully connected layer with nn.Linear's default init:
// U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
func (b *builder) linear(name string, out, in int) (w, bias *torch.Tensor) {
	if b.sum != nil {
		n := int64(out) * int64(in)
		b.sum.add(name, n+int64(out), n+int64(out), n, true)
		return nil, nil
	}
	bound := 1 / math.Sqrt(float64(in))
	uniform := func(t *torch.Tensor) error { return t.UniformInPlace(bound) }
	w = b.param(name+".weight", b.fill(torch.Empty(torch.Float32, torch.CPU, int64(out), int64(in)), uniform), false, false)
	bias = b.param(name+".bias", b.fill(torch.Empty(torch.Float32, torch.CPU, int64(out)), uniform), false, false)
	return w, bias
}

// alpha creates SkipInit's trainable scalar alpha, holding 0 or 1/√d for
// d residual blocks (Options.Alpha), or returns nil in designs without
// one.
func (b *builder) alpha(name string) *torch.Tensor {
	if !b.design.alpha {
		return nil
	}
	if b.sum != nil {
		b.sum.add(name, 1, 0, 0, false)
		return nil
	}
	t := torch.Zeros(torch.Float32, torch.CPU)
	if b.m.opts.Alpha == AlphaInvSqrtDepth {
		t = b.fill(t, func(t *torch.Tensor) error { return t.Fill(1 / math.Sqrt(float64(b.m.opts.Arch.Blocks()))) })
	}
	return b.param(name, t, false, false)
}
