package ddp

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/ddp/ddptest"
	"weaksup/nets"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train"
)

// TestDataParallelBF16: two ranks training under bf16 autocast with loss
// scaling end bit-identical, with the scaler's state in the checkpoint, and
// follow one bf16 process of twice the batch to bf16 rounding (both sum
// the same gradients, rounded to bf16 over different groups of images;
// skip-init blocks, so no batch statistics differ);
// the bf16 arithmetic shows (the result is not the fp32 one). A job whose
// ranks disagree on the precision fails before its first step, unless
// AgreePrecision gives every rank rank 0's first.
func TestDataParallelBF16(t *testing.T) {
	torchtest.Need(t)
	scaling := train.LossScaling{InitScale: 1024, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 2}
	job := ddpJob{Out: t.TempDir(), Steps: 4, Batch: 8, Accumulate: 1, Block: "skipinit", LR: 0.4, Every: 2,
		Precision: train.PrecisionBF16, LossScaling: &scaling}
	mustLaunchDDP(t, job, 2)
	if diff := ddptest.SameTensors(t, filepath.Join(job.Out, "rank-0.safetensors"), filepath.Join(job.Out, "rank-1.safetensors")); diff != "" {
		t.Fatalf("rank 0 and rank 1 differ: %s", diff)
	}
	st := readState(t, job.Out)
	if st.Precision != train.PrecisionBF16 || st.World != 2 || st.GradScaler == nil || st.GradScaler.Scale != 4096 {
		t.Errorf("checkpoint: precision %q world %d scaler %+v; want bf16, 2 and scale 1024·2² after 4 finite steps",
			st.Precision, st.World, st.GradScaler)
	}

	if err := torch.SetNumThreads(1); err != nil {
		t.Fatal(err)
	}
	one := func(p train.Precision, ls *train.LossScaling) map[string][]float32 {
		j := job
		j.Out, j.Batch, j.Precision, j.LossScaling = t.TempDir(), 16, p, ls
		m, data, _, err := ddpModelAndData(j, train.Alone{}.Part())
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if _, err := train.Run(context.Background(), ddpConfig(j), m, data); err != nil {
			t.Fatal(err)
		}
		out := map[string][]float32{}
		for _, p := range m.Parameters() {
			if p.Buffer {
				continue
			}
			v, err := p.Tensor.Float32s()
			if err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
			out[p.Name] = v
		}
		return out
	}
	got, _, err := nets.LoadTensors(filepath.Join(job.Out, "rank-0.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, p := range got {
			p.Tensor.Close()
		}
	}()
	bf, fp := one(train.PrecisionBF16, &scaling), one(train.PrecisionFP32, nil)
	compared := 0
	// bfloat16 keeps 8 bits of mantissa: weight gradients rounded to it
	// over 8 images or over 16 differ by about 2^-8 of their scale, and
	// four steps at a high learning rate compound that. Measured: 0.011 of
	// a tensor's scale at most for the weights, 0.043 for a block's
	// one-element skip-init gate; the bf16 and fp32 results differ by 0.25.
	const tol = 8e-2
	worst, off := 0.0, 0.0
	for _, p := range got {
		want, ok := bf[p.Name]
		if !ok {
			continue // a buffer
		}
		compared++
		v, err := p.Tensor.Float32s()
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if len(v) != len(want) {
			t.Fatalf("%s: %d values from the ranks, %d in one process", p.Name, len(v), len(want))
		}
		if d := scaledDiff(v, want); d > tol {
			t.Errorf("%s: two bf16 ranks and one bf16 process differ by %.3g of the tensor's scale", p.Name, d)
		} else {
			worst = max(worst, d)
		}
		off = max(off, scaledDiff(v, fp[p.Name]))
	}
	if compared != len(bf) {
		t.Fatalf("compared %d trainable tensors of the ranks, one process has %d", compared, len(bf))
	}
	if off == 0 {
		t.Error("the two bf16 ranks ended with exactly the fp32 weights: autocast did nothing")
	}
	t.Logf("bf16, two ranks against one process: worst difference %.3g of a tensor's scale (tolerance %g); against fp32: %.3g", worst, tol, off)

	bad := job
	bad.Out, bad.Rank1Precision, bad.Steps = t.TempDir(), train.PrecisionFP32, 2
	out, err := launchDDP(t, bad, 2)
	if err == nil || !strings.Contains(out, "different precisions") {
		t.Fatalf("ranks in bf16 and fp32: %v\n%s\nwant an error about different precisions", err, out)
	}
	// auto on both ranks: each resolves it, and both take rank 0's choice.
	agreed := job
	agreed.Out, agreed.Precision, agreed.Steps = t.TempDir(), train.PrecisionAuto, 2
	out = mustLaunchDDP(t, agreed, 2)
	want := train.PrecisionFP32
	if strings.Contains(out, "job: precision bf16") {
		want = train.PrecisionBF16
	}
	if st := readState(t, agreed.Out); st.Precision != want {
		t.Errorf("the run's precision is %q, rank 0 logged %q:\n%s", st.Precision, want, out)
	}
	if diff := ddptest.SameTensors(t, filepath.Join(agreed.Out, "rank-0.safetensors"), filepath.Join(agreed.Out, "rank-1.safetensors")); diff != "" {
		t.Fatalf("with auto on both ranks rank 0 and rank 1 differ: %s", diff)
	}
}
