package train

import (
	"context"
	"errors"
	"flag"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/loader"
	"weaksup/nets"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train/traintest"
)

func readState(t *testing.T, out string) CheckpointState {
	t.Helper()
	dir, err := LatestCheckpoint(CheckpointsDir(out))
	if err != nil {
		t.Fatal(err)
	}
	st, err := ReadCheckpointState(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestRunBF16ResumesExactly: a bf16 run with loss scaling whose scale
// changes mid-run, interrupted and resumed in a fresh model, ends with the
// weights and scaler state of an uninterrupted one; and bf16 did change
// the arithmetic (its weights differ from an fp32 run's).
func TestRunBF16ResumesExactly(t *testing.T) {
	const k, px = 4, 16
	src := traintest.NewSquares(64, k, px, 45)
	scaling := LossScaling{InitScale: 1024, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 2}
	cfg := Config{Steps: 6, Batch: 8, NoPlots: true, CheckpointEvery: 100, Precision: PrecisionBF16, LossScaling: &scaling,
		Schedule: Schedule{BaseLR: 0.2}, SGD: defaultSGD}
	data := squaresData(src, src, 8, px, 9)

	whole := newTiny(t, k, 5, nets.Bottleneck)
	defer whole.Close()
	cfg.Out = t.TempDir()
	if _, err := Run(context.Background(), cfg, whole, data); err != nil {
		t.Fatal(err)
	}
	wholeState := readState(t, cfg.Out)
	if wholeState.Precision != PrecisionBF16 || wholeState.GradScaler == nil || wholeState.GradScaler.Scale != 8192 {
		t.Errorf("final state: precision %q, scaler %+v; want bf16 and scale 1024·2³ after 6 finite steps", wholeState.Precision, wholeState.GradScaler)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut := data
	cut.Train = func(part Part, p *loader.Position) (Batches, error) {
		b, err := data.Train(part, p)
		return &cancelAfter{Batches: b, n: 3, cancel: cancel}, err
	}
	m := newTiny(t, k, 5, nets.Bottleneck)
	defer m.Close()
	cfg.Out = t.TempDir()
	if _, err := Run(ctx, cfg, m, cut); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	if st := readState(t, cfg.Out); st.Step != 3 || st.GradScaler == nil || st.GradScaler.Scale != 2048 || st.GradScaler.GrowthTracker != 1 {
		t.Fatalf("interrupted at step %d with scaler %+v; want step 3, scale 2048, tracker 1", st.Step, st.GradScaler)
	}
	m2 := newTiny(t, k, 77, nets.Bottleneck)
	defer m2.Close()
	cfg.Resume = true
	if _, err := Run(context.Background(), cfg, m2, data); err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(t, whole, m2); d != 0 {
		t.Errorf("resumed bf16 weights differ from the uninterrupted run's by %g", d)
	}
	if got := readState(t, cfg.Out).GradScaler; got == nil || *got != *wholeState.GradScaler {
		t.Errorf("resumed scaler %+v, uninterrupted %+v", got, wholeState.GradScaler)
	}
	// The checkpoint stays float32 (master weights and momentum), so that
	// torchvision loads it as an fp32 run's.
	ckpt, err := LatestCheckpoint(CheckpointsDir(cfg.Out))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ModelFile, OptimizerFile} {
		ps, _, err := nets.LoadTensors(filepath.Join(ckpt, f))
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 {
			t.Errorf("%s of the bf16 run holds no tensors", f)
		}
		for _, p := range ps {
			d, err := p.Tensor.DType()
			if err != nil {
				t.Fatal(err)
			}
			if d != torch.Float32 && !strings.HasSuffix(p.Name, "num_batches_tracked") {
				t.Errorf("%s: %s is %v in the bf16 run's checkpoint, want float32", f, p.Name, d)
			}
			p.Tensor.Close()
		}
	}

	fp32 := newTiny(t, k, 5, nets.Bottleneck)
	defer fp32.Close()
	c32 := cfg
	c32.Out, c32.Resume, c32.Precision, c32.LossScaling = t.TempDir(), false, PrecisionFP32, nil
	if _, err := Run(context.Background(), c32, fp32, data); err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(t, whole, fp32); d == 0 {
		t.Error("the bf16 run's weights are bit-identical to the fp32 run's: autocast did nothing")
	}
}

// TestLossScalingByPowerOfTwoChangesNothing: in fp32, scaling the loss by
// a power of two and the gradients back is exact as long as nothing
// overflows, so the weights equal an unscaled run's bit for bit — the
// scaler's backward and unscale are wired where they belong.
func TestLossScalingByPowerOfTwoChangesNothing(t *testing.T) {
	const k, px = 4, 16
	src := traintest.NewSquares(48, k, px, 46)
	run := func(scaling *LossScaling) *nets.ResNeXt {
		m := newTiny(t, k, 6, nets.Bottleneck)
		cfg := Config{Out: t.TempDir(), Steps: 3, Batch: 8, Accumulate: 2, NoPlots: true, LossScaling: scaling,
			Schedule: Schedule{BaseLR: 0.3, Decay: DecayConstant}, SGD: defaultSGD}
		data := squaresData(src, src, 8, px, 3)
		data.Val = nil
		if _, err := Run(context.Background(), cfg, m, data); err != nil {
			t.Fatal(err)
		}
		return m
	}
	plain := run(nil)
	defer plain.Close()
	scaled := run(&LossScaling{InitScale: 4096, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 2})
	defer scaled.Close()
	fresh := newTiny(t, k, 6, nets.Bottleneck)
	defer fresh.Close()
	if moved := maxDiff(t, plain, fresh); moved < 1e-3 {
		t.Fatalf("training moved the weights by %g: nothing to compare", moved)
	}
	if d := maxDiff(t, plain, scaled); d != 0 {
		t.Errorf("loss-scaled weights differ from unscaled ones by %g", d)
	}
}

// spiky is a model with an extra scalar parameter whose value never
// touches the logits (they get spike·(p − p.detach()) = 0 added to their
// first column) but whose gradient is 1e30 times that column's: under a
// large loss scale it overflows, as float16 gradients do, while the forward
// pass and loss stay the network's.
type spiky struct {
	*nets.ResNeXt
	p, spike *torch.Tensor
}

func newSpiky(t *testing.T, m *nets.ResNeXt, k int) *spiky {
	t.Helper()
	mask := make([]float32, k)
	mask[0] = 1e30
	s := &spiky{ResNeXt: m, p: torch.Zeros(torch.Float32, torch.CPU), spike: torch.FromFloat32(mask, int64(k))}
	if err := s.p.SetRequiresGrad(true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.p.Close(); s.spike.Close() })
	return s
}

func (s *spiky) Forward(x *torch.Tensor, train bool) (*torch.Tensor, error) {
	y, err := s.ResNeXt.Forward(x, train)
	if err != nil {
		return nil, err
	}
	y = y.Add(s.p.Sub(s.p.Detach()).Mul(s.spike))
	return y, y.Err()
}

func (s *spiky) Parameters() []nets.Param {
	return append(s.ResNeXt.Parameters(), nets.Param{Name: "spike", Tensor: s.p})
}

// TestLossScalingSkipsOverflowingSteps starts the scale at 2^127 on a
// model whose gradient then overflows float32: the first step is skipped
// (weights and momentum untouched, the skip logged) and the scale backs
// off to 2^7, where the next steps train; the scaler's state survives a
// resume.
func TestLossScalingSkipsOverflowingSteps(t *testing.T) {
	const k, px = 4, 16
	src := traintest.NewSquares(48, k, px, 47)
	scaling := LossScaling{InitScale: math.Ldexp(1, 127), GrowthFactor: 2, BackoffFactor: math.Ldexp(1, -120), GrowthInterval: 1000}
	cfg := Config{Out: t.TempDir(), Steps: 1, Batch: 8, NoPlots: true, LogEvery: 1, LossScaling: &scaling,
		Schedule: Schedule{BaseLR: 0.3, Decay: DecayConstant}, SGD: defaultSGD}
	data := squaresData(src, src, 8, px, 3)
	data.Val = nil
	var log strings.Builder
	cfg.Log = &log
	base := newTiny(t, k, 8, nets.Bottleneck)
	defer base.Close()
	m := newSpiky(t, base, k)
	fresh := newTiny(t, k, 8, nets.Bottleneck)
	defer fresh.Close()
	if _, err := Run(context.Background(), cfg, m, data); err != nil {
		t.Fatal(err)
	}
	// Batch-norm running statistics move in the forward pass; the
	// trainable tensors must not.
	for i, p := range base.Parameters() {
		if p.Buffer {
			continue
		}
		a, _ := p.Tensor.Bytes()
		b, _ := fresh.Parameters()[i].Tensor.Bytes()
		if string(a) != string(b) {
			t.Errorf("%s changed in a skipped step", p.Name)
		}
	}
	st := readState(t, cfg.Out)
	if st.GradScaler == nil || st.GradScaler.Skipped != 1 || st.GradScaler.Scale != 128 {
		t.Errorf("scaler after the overflow: %+v, want 1 skipped and scale 2^7", st.GradScaler)
	}
	if !strings.Contains(log.String(), "step 1 skipped") {
		t.Errorf("the log does not report the skipped step:\n%s", log.String())
	}
	mom, _, err := nets.LoadTensors(filepath.Join(CheckpointsDir(cfg.Out), CheckpointName(1), OptimizerFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(mom) != 0 {
		t.Errorf("a skipped first step left %d momentum buffers", len(mom))
	}

	cfg.Steps, cfg.Resume = 3, true
	if _, err := Run(context.Background(), cfg, m, data); err != nil {
		t.Fatal(err)
	}
	if moved := maxDiff(t, base, fresh); moved < 1e-3 {
		t.Errorf("the steps after the backoff moved the weights by %g", moved)
	}
	st = readState(t, cfg.Out)
	if st.GradScaler.Skipped != 1 || st.GradScaler.Scale != 128 {
		t.Errorf("scaler after the resumed steps: %+v, want still 1 skipped and scale 2^7", st.GradScaler)
	}
	rows, err := ReadMetrics(filepath.Join(cfg.Out, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rows); n == 0 || rows[n-1].LossScale != 128 {
		t.Errorf("the metrics do not record the loss scale: %+v", rows)
	}
}

func TestRunRefusesFP16OnCPU(t *testing.T) {
	src := traintest.NewSquares(16, 4, 16, 48)
	m := newTiny(t, 4, 1, nets.Bottleneck)
	defer m.Close()
	cfg := Config{Out: t.TempDir(), Steps: 1, Batch: 8, NoPlots: true, Precision: PrecisionFP16,
		Schedule: Schedule{BaseLR: 0.1}, SGD: defaultSGD}
	_, err := Run(context.Background(), cfg, m, squaresData(src, src, 8, 16, 1))
	if err == nil || !strings.Contains(err.Error(), "fp16") || !strings.Contains(err.Error(), "CUDA") {
		t.Errorf("Run in fp16 on the CPU: %v, want an error naming fp16 and CUDA", err)
	}
}

func TestChoosePrecision(t *testing.T) {
	torchtest.Need(t)
	for _, p := range []Precision{PrecisionFP32, PrecisionBF16, ""} {
		got, why, err := ChoosePrecision(p, torch.CPU)
		if err != nil || got != p.orFP32() || why == "" {
			t.Errorf("ChoosePrecision(%q, cpu) = %q, %q, %v; want it as requested", p, got, why, err)
		}
	}
	if _, _, err := ChoosePrecision(PrecisionFP16, torch.CPU); err == nil {
		t.Error("ChoosePrecision(fp16, cpu) succeeded")
	}
	rng, err := torch.RNGState(torch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	got, why, err := ChoosePrecision(PrecisionAuto, torch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	native, _ := torch.BF16Supported(torch.CPU)
	switch {
	case !native && got != PrecisionFP32:
		t.Errorf("auto on a CPU without native bf16 chose %s", got)
	case got != PrecisionFP32 && got != PrecisionBF16:
		t.Errorf("auto chose %s", got)
	case native && !strings.Contains(why, "probe"):
		t.Errorf("auto on a CPU with native bf16 did not say what the probe measured: %q", why)
	}
	t.Logf("auto: %s (%s)", got, why)
	after, err := torch.RNGState(torch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(rng) {
		t.Error("choosing the precision moved libtorch's RNG: seeded runs would depend on it")
	}
	again, why2, _ := ChoosePrecision(PrecisionAuto, torch.CPU)
	if again != got || why2 != why {
		t.Errorf("second choice %s (%s), first %s (%s): the probe is not cached", again, why2, got, why)
	}
}

func TestPrecisionFlag(t *testing.T) {
	for in, want := range map[string]Precision{"fp32": PrecisionFP32, "BF16": PrecisionBF16, "fp16": PrecisionFP16, "auto": PrecisionAuto} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		var p Precision
		p.RegisterFlag(fs)
		if p != PrecisionAuto {
			t.Errorf("default %q, want auto", p)
		}
		if err := fs.Parse([]string{"--precision", in}); err != nil || p != want {
			t.Errorf("--precision %s: %q, %v; want %q", in, p, err, want)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var p Precision
	p.RegisterFlag(fs)
	if err := fs.Parse([]string{"--precision", "fp8"}); err == nil || !strings.Contains(err.Error(), "fp8") || !strings.Contains(err.Error(), "bf16") {
		t.Errorf("--precision fp8: %v, want an error naming the value and the choices", err)
	}
}
