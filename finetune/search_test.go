package finetune

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/datasets"
	"weaksup/datasets/datasetstest"
	"weaksup/torch/torchtest"
)

// TestSearchChoosesOnCarvedImages: --lr auto trains every candidate on the
// train split less a carved-out part, scores it on that part only, trains
// the final run at the best candidate's rate, records the trials, and a
// rerun reuses them.
func TestSearchChoosesOnCarvedImages(t *testing.T) {
	torchtest.Need(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	spec := datasetstest.Spec{K: 3, Train: 10, Val: 4, Size: 20}
	datasetstest.ImageFolder(t, data, spec)
	cfg := tinyConfig(datasets.ImageFolder, data, filepath.Join(dir, "run"))
	cfg.Search = &Search{LRs: []float64{0.001, 0.5}, Carve: 0.2}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Trials) != 2 {
		t.Fatalf("%d trials, want 2: %+v", len(res.Trials), res.Trials)
	}
	best := res.Trials[0]
	if res.Trials[1].Top1 > best.Top1 {
		best = res.Trials[1]
	}
	if res.LR != best.LR {
		t.Errorf("final learning rate %g, the best trial's is %g (%+v)", res.LR, best.LR, res.Trials)
	}
	held := spec.K * 2 // 20% of 10 per class
	for _, tr := range res.Trials {
		var m Metrics
		b, err := os.ReadFile(filepath.Join(tr.Dir, MetricsJSONFile))
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			t.Fatalf("trial %g: %v", tr.LR, err)
		}
		if m.Images != held || m.Top1 != tr.Top1 {
			t.Errorf("trial %g scored %d images (top-1 %v, recorded %v); want the %d carved out of the train split",
				tr.LR, m.Images, m.Top1, tr.Top1, held)
		}
		var ri RunInfo
		if b, err := os.ReadFile(filepath.Join(tr.Dir, RunInfoFile)); err != nil || json.Unmarshal(b, &ri) != nil {
			t.Fatalf("trial %g: finetune.json: %v", tr.LR, err)
		}
		if want := cfg.Epochs * (spec.K*spec.Train - held) / cfg.Batch; ri.Steps != want || ri.LR != tr.LR {
			t.Errorf("trial %g: %d steps at %g, want %d steps on the %d images left", tr.LR, ri.Steps, ri.LR, want, spec.K*spec.Train-held)
		}
	}
	if res.Metrics.Images != spec.K*spec.Val {
		t.Errorf("the final run scored %d images, want the val split's %d", res.Metrics.Images, spec.K*spec.Val)
	}
	var ri RunInfo
	if b, err := os.ReadFile(filepath.Join(cfg.Out, RunInfoFile)); err != nil || json.Unmarshal(b, &ri) != nil || ri.LR != res.LR || len(ri.Trials) != 2 {
		t.Errorf("finetune.json records lr %g and %d trials (%v); want %g and 2", ri.LR, len(ri.Trials), err, res.LR)
	}

	// A rerun reuses the finished trials; a trial made with other settings
	// is refused.
	stamp := func() []int64 {
		var ts []int64
		for _, tr := range res.Trials {
			st, err := os.Stat(filepath.Join(tr.Dir, MetricsJSONFile))
			if err != nil {
				t.Fatal(err)
			}
			ts = append(ts, st.ModTime().UnixNano())
		}
		return ts
	}
	before := stamp()
	again := cfg
	again.Out, again.Resume = cfg.Out, true
	if _, err := Run(context.Background(), again); err != nil {
		t.Fatal(err)
	}
	if after := stamp(); after[0] != before[0] || after[1] != before[1] {
		t.Error("a rerun trained the finished trials again")
	}
	other := again
	other.Epochs = 3
	if _, err := Run(context.Background(), other); err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Errorf("a rerun with other epochs: %v, want the trials refused", err)
	}
}

func TestLRFlag(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		lr     float64
		search *Search
		err    string
	}{
		{[]string{"--lr", "0.3"}, 0.3, nil, ""},
		{[]string{"--lr", "auto"}, 0, &Search{Carve: DefaultCarve}, ""},
		{[]string{"--lr-grid", "0.1,1", "--carve", "0.3"}, 0, &Search{LRs: []float64{0.1, 1}, Carve: 0.3}, ""},
		{[]string{"--lr", "fast"}, 0, nil, `"fast" is neither a learning rate nor auto`},
		{[]string{"--lr-grid", "0.1,-1"}, 0, nil, "-1 is not a learning rate"},
	} {
		var c Config
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.RegisterFlags(fs)
		err := fs.Parse(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		c.Data, c.Out, c.From = "d", "o", FromNone
		if err := c.fill(); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if tc.search == nil && (c.Search != nil || c.LR != tc.lr) {
			t.Errorf("%v: lr %g search %+v, want %g and no search", tc.args, c.LR, c.Search, tc.lr)
		}
		if tc.search != nil && (c.Search == nil || c.Search.Carve != tc.search.Carve || len(c.Search.LRs) != len(tc.search.LRs)) {
			t.Errorf("%v: search %+v, want %+v", tc.args, c.Search, tc.search)
		}
	}
}
