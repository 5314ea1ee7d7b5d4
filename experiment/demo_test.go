package experiment

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The quick demo runs every part of the system, writes the report with its
// plots, and a second run over the same directory resumes instead of
// redoing the work.
func TestQuickDemo(t *testing.T) {
	dir := t.TempDir()
	c := QuickDemo(dir)
	c.Log = os.Stderr
	res, err := RunDemo(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Transfer) != 4 {
		t.Fatalf("transfer runs = %d, want 4 (linear and full, pretrained and scratch)", len(res.Transfer))
	}
	for _, tr := range res.Transfer {
		if tr.Top1 <= 0 || tr.Top1 > 1 {
			t.Errorf("%s/%s top-1 = %v, want in (0, 1]", tr.Mode, tr.Init, tr.Top1)
		}
	}
	if res.Pretrain.Steps != c.PretrainSteps {
		t.Errorf("pretrain steps = %d, want %d", res.Pretrain.Steps, c.PretrainSteps)
	}
	if res.Dedup.Caught == 0 || res.Dedup.FalsePositives != 0 {
		t.Errorf("dedup caught %d planted copies with %d false positives, want > 0 and 0", res.Dedup.Caught, res.Dedup.FalsePositives)
	}
	report, err := os.ReadFile(filepath.Join(dir, DemoReport))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Transfer to the target task", "| linear |", "| full |", "recall", "Held-out AP per tag"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, f := range []string{PlotTransfer, PlotDedup, PlotConcepts, PlotLoss, PlotPretrain} {
		b, err := os.ReadFile(filepath.Join(dir, demoPlotsDir, f))
		if err != nil || len(b) < 1000 || string(b[1:4]) != "PNG" {
			t.Errorf("plot %s: %d bytes, err %v; want a PNG", f, len(b), err)
		}
	}

	// Again: every stage is up to date and the runs resume at their end.
	res2, err := RunDemo(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Seconds["pipeline"] > res.Seconds["pipeline"] {
		t.Logf("second pipeline pass took %.1fs, first %.1fs", res2.Seconds["pipeline"], res.Seconds["pipeline"])
	}
	for i := range res.Transfer {
		if res.Transfer[i].Top1 != res2.Transfer[i].Top1 {
			t.Errorf("rerun %s/%s top-1 = %v, first run %v; a finished run should be reused", res.Transfer[i].Mode, res.Transfer[i].Init, res2.Transfer[i].Top1, res.Transfer[i].Top1)
		}
	}
}
