//go:build e2e

package pretrain

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"weaksup/torch/torchtest"
	"weaksup/train"
	"weaksup/train/traintest"
)

// TestPretrainSmallNetLearnsE2E is the long form of TestRunLearns: the
// small net, through Pretrain on a real shard directory, at 32 px with
// eight classes, for several epochs: about a minute on 2 idle cores. Run it
// with
//
//	go test -tags e2e -run E2E -v -timeout 30m ./train/
func TestPretrainSmallNetLearnsE2E(t *testing.T) {
	torchtest.Need(t)
	const k, px = 8, 32
	dir := writeSquareShards(t, traintest.NewSquares(1024, k, px, 51), traintest.NewSquares(256, k, px, 52))
	out := t.TempDir()
	c := DefaultConfig()
	c.Shards, c.Out, c.Arch, c.Epochs, c.Batch, c.ImageSize = dir, out, "small", 3, 64, px
	c.LR, c.WarmupEpochs, c.EvalAtStart = 0.4, 0.5, true
	res, err := Run(context.Background(), c, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := train.ReadMetrics(filepath.Join(out, train.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var first *train.EvalResult
	for _, r := range rows {
		if r.Kind == train.RowEval {
			if first == nil {
				first = r.EvalResult
			}
			t.Logf("step %d: precision@1 %.3f precision@5 %.3f mAP %.3f", r.Step, r.PrecisionAt1, r.PrecisionAt5, r.MAP)
		}
	}
	t.Logf("%.0f images/s", res.ImagesPerS)
	if first == nil || res.Eval == nil {
		t.Fatal("no evaluations")
	}
	if res.Eval.PrecisionAt1 < 0.8 || res.Eval.MAP < 0.8 || res.Eval.PrecisionAt1 < first.PrecisionAt1+0.4 {
		t.Errorf("precision@1 %.3f → %.3f, mAP %.3f → %.3f: want both ≥ 0.8 and precision@1 up by 0.4",
			first.PrecisionAt1, res.Eval.PrecisionAt1, first.MAP, res.Eval.MAP)
	}
}
