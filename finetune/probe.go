package finetune

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"weaksup/loader"
	"weaksup/nets"
	"weaksup/torch"
	"weaksup/train"
)

// LinearProbe is a linear classifier over standardized cached features,
// trained by train.Run like any other model. The loop feeds it
// loader.Batch values whose image buffer carries each image's feature
// vector in its first Dim floats (zero padded to 3×Side×Side), so the probe
// needs nothing of the loop beyond its Model and Batches interfaces.
type LinearProbe struct {
	Dim, Classes int
	Side         int       // batch image side that holds Dim floats
	Mean, Std    []float32 // standardization of the training features
	w, b         *torch.Tensor
}

var _ train.Model = (*LinearProbe)(nil)

// NewLinearProbe returns a zero-initialized classifier over features
// standardized by the mean and standard deviation of train.
func NewLinearProbe(tr *Features) (*LinearProbe, error) {
	if tr.Len() == 0 || tr.Dim == 0 {
		return nil, fmt.Errorf("new linear probe: no training features")
	}
	p := &LinearProbe{Dim: tr.Dim, Classes: tr.Classes, Side: int(math.Ceil(math.Sqrt(float64(tr.Dim) / 3)))}
	p.Mean, p.Std = standardization(tr)
	p.w = torch.Zeros(torch.Float32, torch.CPU, int64(tr.Classes), int64(tr.Dim))
	p.b = torch.Zeros(torch.Float32, torch.CPU, int64(tr.Classes))
	for _, t := range []*torch.Tensor{p.w, p.b} {
		if err := t.Err(); err != nil {
			p.Close()
			return nil, fmt.Errorf("new linear probe: %w", err)
		}
		if err := t.SetRequiresGrad(true); err != nil {
			p.Close()
			return nil, fmt.Errorf("new linear probe: %w", err)
		}
	}
	return p, nil
}

// standardization returns the per-dimension mean and standard deviation of
// f (1 where a dimension is constant).
func standardization(f *Features) (mean, std []float32) {
	n, d := f.Len(), f.Dim
	sum := make([]float64, d)
	sq := make([]float64, d)
	for i := range n {
		for j, v := range f.Row(i) {
			sum[j] += float64(v)
			sq[j] += float64(v) * float64(v)
		}
	}
	mean, std = make([]float32, d), make([]float32, d)
	for j := range d {
		m := sum[j] / float64(n)
		v := sq[j]/float64(n) - m*m
		mean[j] = float32(m)
		std[j] = 1
		if v > 1e-12 {
			std[j] = float32(math.Sqrt(v))
		}
	}
	return mean, std
}

// Close frees the classifier's tensors.
func (p *LinearProbe) Close() {
	p.w.Close()
	p.b.Close()
}

func (p *LinearProbe) input(x *torch.Tensor) *torch.Tensor {
	return x.Flatten(1, 3).Narrow(1, 0, int64(p.Dim))
}

// Forward returns the logits of the (standardized) features carried in x.
func (p *LinearProbe) Forward(x *torch.Tensor, _ bool) (*torch.Tensor, error) {
	y := torch.Linear(p.input(x), p.w, p.b)
	return y, y.Err()
}

// Features returns the features carried in x.
func (p *LinearProbe) Features(x *torch.Tensor, _ bool) (*torch.Tensor, error) {
	y := p.input(x)
	return y, y.Err()
}

// Parameters names the classifier as torchvision names a ResNeXt's.
func (p *LinearProbe) Parameters() []nets.Param {
	return []nets.Param{{Name: "fc.weight", Tensor: p.w}, {Name: "fc.bias", Tensor: p.b}}
}

// Head returns the weight and bias.
func (p *LinearProbe) Head() []*torch.Tensor { return []*torch.Tensor{p.w, p.b} }

// Scores returns the logits of every image of f, standardized by
// Standardize.
func (p *LinearProbe) Scores(f *Features) ([]float32, error) {
	w, err := p.w.Float32s()
	if err != nil {
		return nil, fmt.Errorf("read probe weight: %w", err)
	}
	b, err := p.b.Float32s()
	if err != nil {
		return nil, fmt.Errorf("read probe bias: %w", err)
	}
	out := make([]float32, f.Len()*p.Classes)
	for i := range f.Len() {
		row := f.Row(i)
		for c := range p.Classes {
			s := b[c]
			for j, v := range w[c*p.Dim : (c+1)*p.Dim] {
				s += v * row[j]
			}
			out[i*p.Classes+c] = s
		}
	}
	return out, nil
}

// folded returns the weight and bias that act on raw features:
// W' = W/std, b' = b − W'·mean.
func (p *LinearProbe) folded() (w, b []float32, err error) {
	if w, err = p.w.Float32s(); err != nil {
		return nil, nil, fmt.Errorf("read probe weight: %w", err)
	}
	if b, err = p.b.Float32s(); err != nil {
		return nil, nil, fmt.Errorf("read probe bias: %w", err)
	}
	for c := range p.Classes {
		row := w[c*p.Dim : (c+1)*p.Dim]
		for j := range row {
			row[j] /= p.Std[j]
			b[c] -= row[j] * p.Mean[j]
		}
	}
	return w, b, nil
}

// FoldInto replaces the head of m with the probe, acting on raw features,
// so m classifies images end to end.
func (p *LinearProbe) FoldInto(m *nets.ResNeXt) error {
	if m.Options().Arch.FeatureDim() != p.Dim {
		return fmt.Errorf("fold probe: %d features, the network has %d", p.Dim, m.Options().Arch.FeatureDim())
	}
	w, b, err := p.folded()
	if err != nil {
		return err
	}
	if m.Options().NumClasses != p.Classes {
		if err := m.ReplaceHead(p.Classes); err != nil {
			return err
		}
	}
	s := torch.NewScope()
	defer s.Close()
	h := m.Head()
	return torch.NoGrad(func() error {
		if err := h[0].CopyFrom(torch.FromFloat32(w, int64(p.Classes), int64(p.Dim))); err != nil {
			return fmt.Errorf("fold probe: %w", err)
		}
		if err := h[1].CopyFrom(torch.FromFloat32(b, int64(p.Classes))); err != nil {
			return fmt.Errorf("fold probe: %w", err)
		}
		return nil
	})
}

// featureBatches serves cached features to train.Run as batches: seeded
// shuffled epochs with a resumable Position for training, one ordered pass
// for evaluation.
type featureBatches struct {
	f        *Features // standardized
	side     int
	batch    int
	seed     uint64
	train    bool // shuffle, drop the last partial batch, never end
	pos      loader.Position
	perEpoch int // items per epoch
	order    []int
	b        loader.Batch
}

var _ train.Batches = (*featureBatches)(nil)

// Standardize applies the probe's standardization to f in place (the
// features of ImageNet's train split are gigabytes; a copy would double
// them).
func (p *LinearProbe) Standardize(f *Features) {
	for i := range f.Len() {
		row := f.Row(i)
		for j, v := range row {
			row[j] = (v - p.Mean[j]) / p.Std[j]
		}
	}
}

func newFeatureBatches(p *LinearProbe, f *Features, batch int, seed uint64, trainMode bool, resume *loader.Position) (*featureBatches, error) {
	n := f.Len()
	batch = min(batch, n)
	fb := &featureBatches{f: f, side: p.Side, batch: batch, seed: seed, train: trainMode, perEpoch: n}
	if trainMode {
		fb.perEpoch = n / batch * batch
	}
	fb.pos = loader.Position{Seed: seed, World: 1, Sampling: loader.SamplingNatural, Items: n}
	if resume != nil {
		r := *resume
		if r.Seed != seed || r.Items != n || r.World != 1 || r.Consumed < 0 || r.Consumed > fb.perEpoch || r.Epoch < 0 {
			return nil, fmt.Errorf("open feature batches: %w: saved %+v, have seed %d and %d images", loader.ErrPosition, r, seed, n)
		}
		fb.pos.Epoch, fb.pos.Consumed = r.Epoch, r.Consumed
	}
	sz := 3 * p.Side * p.Side
	fb.b = loader.Batch{Size: p.Side, Classes: f.Classes, Images: make([]float32, batch*sz),
		Labels: make([][]int32, batch), Items: make([]int, batch)}
	for i := range fb.b.Labels {
		fb.b.Labels[i] = make([]int32, 1)
	}
	fb.shuffle()
	return fb, nil
}

func (fb *featureBatches) shuffle() {
	fb.order = make([]int, fb.f.Len())
	for i := range fb.order {
		fb.order[i] = i
	}
	if fb.train {
		r := rand.New(rand.NewPCG(fb.seed, uint64(fb.pos.Epoch)))
		r.Shuffle(len(fb.order), func(i, j int) { fb.order[i], fb.order[j] = fb.order[j], fb.order[i] })
	}
}

func (fb *featureBatches) Next(ctx context.Context) (*loader.Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if fb.pos.Consumed >= fb.perEpoch {
		if !fb.train {
			return nil, io.EOF
		}
		fb.pos.Epoch++
		fb.pos.Consumed = 0
		fb.shuffle()
	}
	n := min(fb.batch, fb.perEpoch-fb.pos.Consumed)
	sz := 3 * fb.side * fb.side
	b := &fb.b
	b.N, b.Epoch = n, fb.pos.Epoch
	for j := range n {
		i := fb.order[fb.pos.Consumed+j]
		copy(b.Images[j*sz:j*sz+fb.f.Dim], fb.f.Row(i))
		b.Labels[j][0] = fb.f.Labels[i]
		b.Items[j] = i
	}
	fb.pos.Consumed += n
	b.Last = fb.pos.Consumed == fb.perEpoch
	b.After = fb.pos
	return b, nil
}

func (fb *featureBatches) Position() loader.Position { return fb.pos }
func (fb *featureBatches) StepsPerEpoch() int {
	return (fb.perEpoch + fb.batch - 1) / fb.batch
}
func (fb *featureBatches) NumClasses() int { return fb.f.Classes }
func (fb *featureBatches) Close() error    { return nil }
