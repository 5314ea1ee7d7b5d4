package train

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/loader"
	"weaksup/nets"
	"weaksup/torch"
	"weaksup/train/traintest"
)

// maxDiff returns the largest absolute difference between the float32
// tensors of two models.
func maxDiff(t *testing.T, a, b *nets.ResNeXt) float64 {
	t.Helper()
	pa, pb := a.Parameters(), b.Parameters()
	worst := 0.0
	for i := range pa {
		if dt, _ := pa[i].Tensor.DType(); dt != torch.Float32 {
			continue
		}
		x, err := pa[i].Tensor.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		y, err := pb[i].Tensor.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		for j := range x {
			worst = max(worst, math.Abs(float64(x[j])-float64(y[j])))
		}
	}
	return worst
}

// TestAccumulationEqualsLargeBatch: two accumulated batches of 8 make the
// same update as one batch of 16 (SkipInit: no batch statistics to differ).
func TestAccumulationEqualsLargeBatch(t *testing.T) {
	const k, px = 4, 16
	src := traintest.NewSquares(64, k, px, 41)
	for _, loss := range Losses {
		t.Run(loss, func(t *testing.T) {
			run := func(batch, accumulate int) *nets.ResNeXt {
				m := newTiny(t, k, 3, nets.SkipInit)
				cfg := Config{Out: t.TempDir(), Steps: 3, Batch: batch, Accumulate: accumulate, NoPlots: true, Loss: loss,
					Schedule: Schedule{BaseLR: 0.5, Decay: DecayConstant}, SGD: defaultSGD}
				data := squaresData(src, src, batch, px, 9)
				data.Val = nil
				if _, err := Run(context.Background(), cfg, m, data); err != nil {
					t.Fatal(err)
				}
				return m
			}
			a, b := run(8, 2), run(16, 1)
			defer a.Close()
			defer b.Close()
			fresh := newTiny(t, k, 3, nets.SkipInit)
			defer fresh.Close()
			moved, diff := maxDiff(t, a, fresh), maxDiff(t, a, b)
			if moved < 1e-3 {
				t.Fatalf("training moved the weights by %g: nothing to compare", moved)
			}
			if diff > 1e-5 {
				t.Errorf("batch 8 × 2 and batch 16 differ by %g (training moved weights by %g)", diff, moved)
			}
		})
	}
}

func TestRunRefusesHeadOfAnotherWidth(t *testing.T) {
	src := traintest.NewSquares(32, 4, 16, 47)
	m := newTiny(t, 5, 1, nets.Bottleneck)
	defer m.Close()
	cfg := Config{Out: t.TempDir(), Steps: 1, Batch: 16, NoPlots: true, Schedule: Schedule{BaseLR: 0.1}, SGD: defaultSGD}
	_, err := Run(context.Background(), cfg, m, squaresData(src, src, 16, 16, 1))
	if err == nil || !strings.Contains(err.Error(), "4 classes") {
		t.Errorf("5-class head on 4-class data: %v, want an error naming the 4 classes", err)
	}
}

// TestFreezeBackboneTrainsOnlyTheHead: with a frozen backbone every
// backbone tensor, BN statistics included, keeps its bits and the head
// moves.
func TestFreezeBackboneTrainsOnlyTheHead(t *testing.T) {
	const k, px = 4, 16
	src := traintest.NewSquares(64, k, px, 43)
	m := newTiny(t, k, 4, nets.Bottleneck)
	defer m.Close()
	before := tensorBytes(t, m.Parameters())
	cfg := Config{Out: t.TempDir(), Steps: 4, Batch: 16, FreezeBackbone: true, NoPlots: true,
		Schedule: Schedule{BaseLR: 1, Decay: DecayConstant}, SGD: defaultSGD}
	data := squaresData(src, src, 16, px, 9)
	if _, err := Run(context.Background(), cfg, m, data); err != nil {
		t.Fatal(err)
	}
	after := tensorBytes(t, m.Parameters())
	for name, b := range before {
		changed := after[name] != b
		head := name == "fc.weight" || name == "fc.bias"
		if changed != head {
			t.Errorf("%s: changed %v, want %v", name, changed, head)
		}
	}
}

// cancelAfter wraps a loader and cancels a context after n batches. It
// refuses a cancelled context before asking the loader (which may still
// hand out a prefetched batch), so the loop meets the cancellation at the
// next batch every time.
type cancelAfter struct {
	Batches
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Next(ctx context.Context) (*loader.Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := c.Batches.Next(ctx)
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return b, err
}

// TestRunInterruptedSavesAndResumes: a cancelled run saves a checkpoint of
// the steps it finished — finishing a step whose accumulation had begun —
// and a resumed run ends with the weights of an uninterrupted one.
func TestRunInterruptedSavesAndResumes(t *testing.T) {
	const k, px = 4, 16
	src := traintest.NewSquares(64, k, px, 45)
	tests := []struct {
		name        string
		accumulate  int
		cancelAfter int // batches
		wantStep    int
	}{
		{"between steps", 1, 4, 4},
		{"inside an accumulation", 2, 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Steps: 6, Batch: 8, Accumulate: tt.accumulate, NoPlots: true, CheckpointEvery: 100,
				Schedule: Schedule{BaseLR: 0.2}, SGD: defaultSGD}
			data := squaresData(src, src, 8, px, 9)

			whole := newTiny(t, k, 5, nets.Bottleneck)
			defer whole.Close()
			cfg.Out = t.TempDir()
			if _, err := Run(context.Background(), cfg, whole, data); err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cut := data
			cut.Train = func(part Part, p *loader.Position) (Batches, error) {
				b, err := data.Train(part, p)
				return &cancelAfter{Batches: b, n: tt.cancelAfter, cancel: cancel}, err
			}
			m := newTiny(t, k, 5, nets.Bottleneck)
			defer m.Close()
			cfg.Out = t.TempDir()
			if _, err := Run(ctx, cfg, m, cut); !errors.Is(err, context.Canceled) {
				t.Fatalf("Run: %v, want context.Canceled", err)
			}
			latest, err := LatestCheckpoint(CheckpointsDir(cfg.Out))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := filepath.Base(latest), CheckpointName(tt.wantStep); got != want {
				t.Errorf("interrupted run saved %s, want %s", got, want)
			}
			// Resume in a fresh model, as a new process would.
			m2 := newTiny(t, k, 77, nets.Bottleneck)
			defer m2.Close()
			cfg.Resume = true
			res, err := Run(context.Background(), cfg, m2, data)
			if err != nil {
				t.Fatal(err)
			}
			if res.Steps != cfg.Steps {
				t.Errorf("resumed run ended at step %d, want %d", res.Steps, cfg.Steps)
			}
			if d := maxDiff(t, whole, m2); d != 0 {
				t.Errorf("resumed weights differ from the uninterrupted run's by %g", d)
			}
		})
	}
}
