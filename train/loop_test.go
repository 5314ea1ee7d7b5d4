package train

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"weaksup/nets"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train/traintest"
)

// newTiny builds the tiny net for k classes from seed.
func newTiny(t testing.TB, k int, seed uint64, block nets.Block) *nets.ResNeXt {
	t.Helper()
	torchtest.Need(t)
	if err := torch.ManualSeed(seed); err != nil {
		t.Fatal(err)
	}
	a, err := nets.LookupArch("resnext_tiny")
	if err != nil {
		t.Fatal(err)
	}
	m, err := nets.NewResNeXt(nets.Options{Arch: a, NumClasses: k, Block: block, ZeroInitLastBN: true, ChannelsLast: true})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRunLearns: on generated multi-label images the tiny net's held-out
// precision@1 rises from chance to well above it in a few hundred CPU
// steps, metrics and plots are written, and the final checkpoint holds the
// trained weights.
func TestRunLearns(t *testing.T) {
	const k, px, batch = 8, 32, 32
	train := traintest.NewSquares(512, k, px, 1)
	val := traintest.NewSquares(128, k, px, 2)
	m := newTiny(t, k, 1, nets.Bottleneck)
	defer m.Close()
	liveBefore, _ := torch.Live()

	out := t.TempDir()
	cfg := Config{
		Out: out, Label: "test", Epochs: 2, Batch: batch,
		Schedule:     Schedule{BaseLR: 0.8, Decay: DecayCosine},
		WarmupEpochs: 0.5,
		SGD:          defaultSGD,
		Keep:         2,
		LogEvery:     5,
		EvalAtStart:  true,
	}
	data := squaresData(train, val, batch, px, 7)
	res, err := Run(context.Background(), cfg, m, data)
	if err != nil {
		t.Fatal(err)
	}
	if live, _ := torch.Live(); live != liveBefore {
		t.Errorf("%d live tensors after the run, %d before: the loop leaks", live, liveBefore)
	}
	rows, err := ReadMetrics(filepath.Join(out, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var evals []*EvalResult
	trainRows := 0
	for _, r := range rows {
		switch r.Kind {
		case RowEval:
			evals = append(evals, r.EvalResult)
		case RowTrain:
			trainRows++
			if r.Loss <= 0 || r.LR <= 0 || r.ImagesPerS <= 0 {
				t.Errorf("train row %+v: want positive loss, lr and images/s", r)
			}
		}
	}
	if len(evals) != cfg.Epochs+1 {
		t.Fatalf("%d eval rows, want one at the start and one per epoch (%d)", len(evals), cfg.Epochs+1)
	}
	chance := 0.0 // expected precision@1 of a constant guess: mean label count / k
	for _, ls := range val.LabelSets() {
		chance += float64(len(ls))
	}
	chance /= float64(len(val.LabelSets()) * k)
	first, last := evals[0], evals[len(evals)-1]
	t.Logf("chance %.3f; precision@1 by epoch:", chance)
	for i, e := range evals {
		t.Logf("  epoch %d: p@1 %.3f p@5 %.3f mAP %.3f loss %.3f", i, e.PrecisionAt1, e.PrecisionAt5, e.MAP, e.Loss)
	}
	if last.PrecisionAt1 < 2.5*chance || last.PrecisionAt1 < 0.6 {
		t.Errorf("final held-out precision@1 %.3f, want ≥ 0.6 and ≥ 2.5× chance (%.3f)", last.PrecisionAt1, chance)
	}
	if last.PrecisionAt1 < first.PrecisionAt1+0.3 {
		t.Errorf("held-out precision@1 went from %.3f untrained to %.3f, want a rise of at least 0.3", first.PrecisionAt1, last.PrecisionAt1)
	}
	if last.MAP <= first.MAP {
		t.Errorf("mAP fell from %.3f to %.3f", first.MAP, last.MAP)
	}
	if res.Eval == nil || res.Eval.PrecisionAt1 != last.PrecisionAt1 {
		t.Errorf("result eval %+v, want the last eval row %+v", res.Eval, last)
	}
	if trainRows < 5 {
		t.Errorf("%d train rows", trainRows)
	}
	for _, name := range []string{PlotLoss, PlotLR, PlotEval} {
		data, err := os.ReadFile(filepath.Join(out, "plots", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("plot %s: %v", name, err)
		}
	}
	cks, err := ListCheckpoints(CheckpointsDir(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(cks) != cfg.Keep || cks[len(cks)-1] != res.Checkpoint {
		t.Errorf("checkpoints %v, want the newest %d ending with %s", cks, cfg.Keep, res.Checkpoint)
	}
	// The final checkpoint reproduces the final evaluation in a fresh model.
	m2 := newTiny(t, k, 99, nets.Bottleneck)
	defer m2.Close()
	if _, err := LoadCheckpoint(res.Checkpoint, m2, nil); err != nil {
		t.Fatal(err)
	}
	vb, err := data.Val(Alone{}.Part())
	if err != nil {
		t.Fatal(err)
	}
	defer vb.Close()
	again, err := Evaluate(context.Background(), m2, vb, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(again.PrecisionAt1-last.PrecisionAt1) > 1e-9 || math.Abs(again.MAP-last.MAP) > 1e-6 {
		t.Errorf("reloaded checkpoint evaluates to p@1 %.4f mAP %.4f, want %.4f %.4f", again.PrecisionAt1, again.MAP, last.PrecisionAt1, last.MAP)
	}
	vb2, err := data.Val(Alone{}.Part())
	if err != nil {
		t.Fatal(err)
	}
	defer vb2.Close()
	some, err := Evaluate(context.Background(), m2, vb2, EvalOptions{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if some.Images != 50 {
		t.Errorf("Evaluate with limit 50 read %d images", some.Images)
	}
}

// TestRunStopsOnNonFiniteLoss: a learning rate that blows the weights up
// stops the run with ErrNonFinite, naming the last good checkpoint, and
// writes no checkpoint after it.
func TestRunStopsOnNonFiniteLoss(t *testing.T) {
	const k, px, batch = 4, 16, 16
	train := traintest.NewSquares(128, k, px, 3)
	m := newTiny(t, k, 1, nets.Bottleneck)
	defer m.Close()
	out := t.TempDir()
	cfg := Config{Out: out, Steps: 20, Batch: batch, CheckpointEvery: 1, NoPlots: true,
		Schedule: Schedule{BaseLR: 1e30, Decay: DecayConstant}, SGD: defaultSGD}
	data := squaresData(train, train, batch, px, 1)
	data.Val = nil
	_, err := Run(context.Background(), cfg, m, data)
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("Run: %v, want ErrNonFinite", err)
	}
	t.Log(err)
	last, lerr := LatestCheckpoint(CheckpointsDir(out))
	if lerr != nil {
		t.Fatalf("no good checkpoint kept: %v", lerr)
	}
	if !bytes.Contains([]byte(err.Error()), []byte(last)) {
		t.Errorf("error %q does not name the last checkpoint %s", err, last)
	}
	// The kept checkpoint has finite weights.
	params, _, err := nets.LoadTensors(filepath.Join(last, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, p := range params {
			p.Tensor.Close()
		}
	}()
	for _, p := range params {
		dt, _ := p.Tensor.DType()
		if dt != torch.Float32 {
			continue
		}
		v, err := p.Tensor.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("checkpoint %s: %s holds %v", last, p.Name, x)
			}
		}
	}
}
