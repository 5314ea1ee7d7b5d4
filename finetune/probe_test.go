package finetune

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"weaksup/loader"
	"weaksup/torch"
	"weaksup/torch/torchtest"
)

func randomFeatures(n, dim, k int, seed uint64) *Features {
	r := rand.New(rand.NewPCG(seed, 1))
	f := &Features{Dim: dim, Classes: k, Vectors: make([]float32, n*dim), Labels: make([]int32, n), Done: n}
	for i := range f.Vectors {
		f.Vectors[i] = float32(r.NormFloat64()*2 + float64(i%dim))
	}
	for i := range f.Labels {
		f.Labels[i] = int32(r.IntN(k))
	}
	return f
}

// drain reads batches until io.EOF or max, recording items and epochs.
func drain(t *testing.T, fb *featureBatches, max int) (items []int, epochs []int, last []bool) {
	t.Helper()
	for range max {
		b, err := fb.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, b.Items[:b.N]...)
		epochs = append(epochs, b.Epoch)
		last = append(last, b.Last)
	}
	return
}

func TestFeatureBatches(t *testing.T) {
	torchtest.Need(t)
	f := randomFeatures(10, 5, 3, 1)
	p, err := NewLinearProbe(f)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Side != 2 { // 3×2×2 = 12 ≥ 5 floats
		t.Errorf("side: got %d, want 2", p.Side)
	}
	// Training: batches of 4 drop the last 2 images of each epoch.
	fb, err := newFeatureBatches(p, f, 4, 9, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := fb.StepsPerEpoch(); got != 2 {
		t.Errorf("steps per epoch: got %d, want 2", got)
	}
	items, epochs, last := drain(t, fb, 6)
	if !reflect.DeepEqual(epochs, []int{0, 0, 1, 1, 2, 2}) || !reflect.DeepEqual(last, []bool{false, true, false, true, false, true}) {
		t.Errorf("epochs %v, last %v", epochs, last)
	}
	if reflect.DeepEqual(items[:8], items[8:16]) {
		t.Error("epochs 0 and 1 drew the same order")
	}
	// Resuming from a saved position continues the same sequence.
	again, _ := newFeatureBatches(p, f, 4, 9, true, nil)
	drain(t, again, 3)
	pos := again.Position()
	resumed, err := newFeatureBatches(p, f, 4, 9, true, &pos)
	if err != nil {
		t.Fatal(err)
	}
	rest, _, _ := drain(t, resumed, 3)
	if !reflect.DeepEqual(rest, items[12:24]) {
		t.Errorf("resumed at %+v: items %v, want %v", pos, rest, items[12:24])
	}
	if _, err := newFeatureBatches(p, f, 4, 10, true, &pos); !errors.Is(err, loader.ErrPosition) {
		t.Errorf("resume with another seed: got %v, want ErrPosition", err)
	}
	// Evaluation: one ordered pass, the last batch short, features in the
	// first Dim floats of each image and zeros after.
	ev, _ := newFeatureBatches(p, f, 4, 9, false, nil)
	var seen []int
	for {
		b, err := ev.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for j := range b.N {
			img := b.Images[j*12 : (j+1)*12]
			if !reflect.DeepEqual(img[:5], f.Row(b.Items[j])) || !reflect.DeepEqual(img[5:], make([]float32, 7)) {
				t.Fatalf("image %d carries %v, want %v then zeros", b.Items[j], img, f.Row(b.Items[j]))
			}
			if b.Labels[j][0] != f.Labels[b.Items[j]] {
				t.Errorf("image %d: label %d, want %d", b.Items[j], b.Labels[j][0], f.Labels[b.Items[j]])
			}
		}
		seen = append(seen, b.Items[:b.N]...)
	}
	if !reflect.DeepEqual(seen, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("evaluation order %v", seen)
	}
}

// The probe folded into a network's head gives, on images, the logits the
// probe gives on their standardized features.
func TestFoldIntoMatchesProbe(t *testing.T) {
	torchtest.Need(t)
	m, _, err := NewModel(ModelConfig{From: FromNone, Arch: "tiny", Classes: 9, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := torch.NewScope()
	defer s.Close()
	x := torch.Randn(torch.Float32, torch.CPU, 6, 3, 16, 16)
	var feats, logits []float32
	err = torch.NoGrad(func() error {
		y, err := m.Features(x, false)
		if err != nil {
			return err
		}
		feats, err = y.Float32s()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	dim := m.Options().Arch.FeatureDim()
	f := &Features{Dim: dim, Classes: 3, Vectors: feats, Labels: []int32{0, 1, 2, 0, 1, 2}, Done: 6}
	p, err := NewLinearProbe(f)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := torch.NoGrad(func() error { return p.w.NormalInPlace(0.3) }); err != nil {
		t.Fatal(err)
	}
	if err := torch.NoGrad(func() error { return p.b.NormalInPlace(0.3) }); err != nil {
		t.Fatal(err)
	}
	if err := p.FoldInto(m); err != nil {
		t.Fatal(err)
	}
	if got := m.Options().NumClasses; got != 3 {
		t.Fatalf("folded head: %d classes, want 3", got)
	}
	err = torch.NoGrad(func() error {
		y, err := m.Forward(x, false)
		if err != nil {
			return err
		}
		logits, err = y.Float32s()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	std := &Features{Dim: dim, Classes: 3, Vectors: append([]float32(nil), feats...), Labels: f.Labels, Done: 6}
	p.Standardize(std)
	want, err := p.Scores(std)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(float64(logits[i]-want[i])) > 1e-3*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("logit %d: network %v, probe %v", i, logits[i], want[i])
		}
	}
}
