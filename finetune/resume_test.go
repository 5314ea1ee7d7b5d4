package finetune

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"weaksup/datasets"
	"weaksup/datasets/datasetstest"
	"weaksup/internal/testkit"
	"weaksup/nets"
	"weaksup/torch/torchtest"
	"weaksup/train"
)

// TestResumeEqualsUninterrupted interrupts fine-tuning and the linear
// probe mid-run, resumes them with Resume, and checks they end with the
// same network and metrics as runs that were never interrupted.
func TestResumeEqualsUninterrupted(t *testing.T) {
	torchtest.Need(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	datasetstest.ImageFolder(t, data, datasetstest.Spec{K: 3, Train: 8, Val: 4, Size: 20})
	cases := []struct {
		mode, marker string
		epochs       int
	}{
		// 24 images in batches of 8: 3 steps per epoch, evaluated (and
		// checkpointed) after each; the interruption lands after step 6.
		{ModeFull, "finetune: step 6 ", 4},
		// The probe evaluates every epochs×3/5 steps: 12, 24, ...
		{ModeLinear, "linear probe: step 12 ", 20},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			base := filepath.Join(dir, tc.mode)
			cfg := tinyConfig(datasets.ImageFolder, data, filepath.Join(base, "straight"))
			cfg.Mode, cfg.Epochs = tc.mode, tc.epochs
			if tc.mode == ModeLinear {
				cfg.From, cfg.Arch, cfg.LR = filepath.Join(dir, "init.safetensors"), "", 0
				saveModel(t, cfg.From, "resnext_tiny", nets.Bottleneck, 5).Close()
			}
			want, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}

			cut := cfg
			cut.Out = filepath.Join(base, "interrupted")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			log := &testkit.CancelOn{Marker: tc.marker, Cancel: cancel}
			cut.Log = log
			if _, err := Run(ctx, cut); !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run: got %v, want context.Canceled (log:\n%s)", err, log.String())
			}
			dirs, err := train.ListCheckpoints(train.CheckpointsDir(runDir(cut)))
			if err != nil || len(dirs) == 0 {
				t.Fatalf("interrupted run left no checkpoint: %v %v", dirs, err)
			}
			cut.Resume, cut.Log = true, nil
			got, err := Run(context.Background(), cut)
			if err != nil {
				t.Fatalf("resumed run: %v", err)
			}
			if got.Steps != want.Steps || got.Metrics.Top1 != want.Metrics.Top1 || got.Metrics.Top5 != want.Metrics.Top5 {
				t.Errorf("resumed: %d steps, top-1 %v top-5 %v; uninterrupted: %d steps, %v %v",
					got.Steps, got.Metrics.Top1, got.Metrics.Top5, want.Steps, want.Metrics.Top1, want.Metrics.Top5)
			}
			assertSameTensors(t, got.Model, want.Model)
		})
	}
}

func assertSameTensors(t *testing.T, a, b string) {
	t.Helper()
	pa, _, err := nets.LoadTensors(a)
	if err != nil {
		t.Fatal(err)
	}
	pb, _, err := nets.LoadTensors(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(pa) != len(pb) {
		t.Fatalf("%s has %d tensors, %s %d", a, len(pa), b, len(pb))
	}
	for i := range pa {
		x, _ := pa[i].Tensor.Bytes()
		y, _ := pb[i].Tensor.Bytes()
		if pa[i].Name != pb[i].Name || !bytes.Equal(x, y) {
			t.Errorf("tensor %s of the resumed run differs from the uninterrupted run's", pa[i].Name)
		}
		pa[i].Tensor.Close()
		pb[i].Tensor.Close()
	}
}
