package finetune

import (
	"context"
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"weaksup/datasets"
	"weaksup/internal/listflag"
	"weaksup/runs"
	"weaksup/torch"
)

// Search is the transfer protocol's choice of learning rate (finetune
// --lr auto): every candidate trains, in the run's mode and with its
// budget, on the train split less a part carved out of it (Carve of each
// class's images, chosen by the run's seed), and is scored on that part;
// the best candidate's learning rate then trains the final run on the
// whole train split, which alone touches the task's val split. Arms of a
// comparison given the same Search are tuned the same way, each on its own
// carved scores.
type Search struct {
	// LRs are the candidate base learning rates (per 256 images);
	// empty takes DefaultLRs of the mode.
	LRs []float64 `json:"lrs,omitempty"`
	// Carve is the held-out fraction of each class (0: DefaultCarve).
	Carve float64 `json:"carve,omitempty"`
}

// DefaultCarve is the fraction of each class's training images a search
// holds out to score its candidates.
const DefaultCarve = 0.2

// DefaultLRs are the candidates of a search in each mode, a factor of
// about 3 apart around the defaults: the linear probe trains on
// standardized features, full fine-tuning every layer.
func DefaultLRs(mode string) []float64 {
	if mode == ModeLinear {
		return []float64{0.1, 0.3, 1, 3, 10}
	}
	return []float64{0.03, 0.1, 0.3, 1, 3}
}

// Trial is one candidate of a search and its score.
type Trial struct {
	LR   float64 `json:"lr"`
	Top1 float64 `json:"top1"` // on the images carved out of the train split
	Dir  string  `json:"dir"`
}

// SearchDir is the folder of a search's trials inside Config.Out.
const SearchDir = "search"

// search runs the trials of cfg.Search on a part carved out of trainSplit
// and returns the learning rate of the best (the first among equals, in
// the grid's order) and every trial. A finished trial is not run again:
// an interrupted search resumes where it stopped.
func (c Config) search(ctx context.Context, s *session, trainSplit datasets.Split) (float64, []Trial, error) {
	lrs := c.Search.LRs
	if len(lrs) == 0 {
		lrs = DefaultLRs(c.Mode)
	}
	fraction := c.Search.Carve
	if fraction == 0 {
		fraction = DefaultCarve
	}
	fit, held, err := datasets.Carve(trainSplit, fraction, c.Seed)
	if err != nil {
		return 0, nil, fmt.Errorf("search learning rate: %w", err)
	}
	logf(c.Log, "finetune: choosing the learning rate among %v on %d of the %d training images, trained on the other %d\n",
		lrs, held.Len(), trainSplit.Len(), fit.Len())
	var trials []Trial
	best := -1
	for _, lr := range lrs {
		t := c
		t.Search, t.LR, t.Resume = nil, lr, true
		t.Out = filepath.Join(c.Out, SearchDir, "lr="+strconv.FormatFloat(lr, 'g', -1, 64))
		// The trials see the same images through the same backbone: a
		// linear probe's features are extracted once for all of them.
		t.featuresDir = filepath.Join(c.Out, SearchDir, FeaturesDir)
		// A trial made with other settings is refused, not reused.
		if err := runs.Claim(t.Out, t); err != nil {
			return 0, nil, fmt.Errorf("search learning rate %g: %w", lr, err)
		}
		tr, _, err := runs.Do(t.Out, func() (Trial, error) { return trial(ctx, t, s, fit, held) })
		if err != nil {
			return 0, nil, fmt.Errorf("search learning rate %g: %w", lr, err)
		}
		trials = append(trials, tr)
		if best < 0 || tr.Top1 > trials[best].Top1 {
			best = len(trials) - 1
		}
	}
	var sb strings.Builder
	for i, t := range trials {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%g → %.1f%%", t.LR, 100*t.Top1)
	}
	logf(c.Log, "finetune: learning rate %g chosen (held-out top-1: %s)\n", trials[best].LR, sb.String())
	return trials[best].LR, trials, nil
}

// trial trains one candidate on fit and scores it on held. Every rank
// returns rank 0's score.
func trial(ctx context.Context, cfg Config, s *session, fit, held datasets.Split) (Trial, error) {
	res, acc, m, weights, err := transfer(ctx, &cfg, s, fit, held)
	if err != nil {
		return Trial{}, err
	}
	defer m.Close()
	top1 := -1.0
	if acc != nil {
		// Rank 0 records the trial: its scores on the held-out images.
		if err := writeOutputs(cfg, res, acc, m, weights, s.classes, "carved from "+datasets.SplitTrain); err != nil {
			return Trial{}, err
		}
		top1 = res.Metrics.Top1
	}
	got, err := s.par.Reduce(torch.DistMax, top1)
	if err != nil {
		return Trial{}, fmt.Errorf("share the trial's score: %w", err)
	}
	if math.IsNaN(got[0]) || got[0] < 0 {
		return Trial{}, fmt.Errorf("no score for learning rate %g", cfg.LR)
	}
	return Trial{LR: cfg.LR, Top1: got[0], Dir: cfg.Out}, nil
}

// lrValue is --lr: a base learning rate, or auto for a Search.
type lrValue struct{ c *Config }

func (v lrValue) String() string {
	if v.c == nil {
		return ""
	}
	if v.c.Search != nil {
		return "auto"
	}
	return strconv.FormatFloat(v.c.LR, 'g', -1, 64)
}

func (v lrValue) Set(s string) error {
	if s == "auto" {
		if v.c.Search == nil {
			v.c.Search = &Search{}
		}
		return nil
	}
	lr, err := strconv.ParseFloat(s, 64)
	if err != nil || lr < 0 {
		return fmt.Errorf("%q is neither a learning rate nor auto", s)
	}
	v.c.LR, v.c.Search = lr, nil
	return nil
}

// gridValue is --lr-grid: the candidates of a search (implies --lr auto).
type gridValue struct{ c *Config }

func (v gridValue) String() string {
	if v.c == nil || v.c.Search == nil {
		return ""
	}
	return listflag.Value[float64](v.c.Search.LRs).String()
}

func (v gridValue) Set(s string) error {
	var l listflag.Value[float64]
	if err := l.Set(s); err != nil {
		return err
	}
	for _, lr := range l {
		if lr <= 0 {
			return fmt.Errorf("%g is not a learning rate > 0", lr)
		}
	}
	if v.c.Search == nil {
		v.c.Search = &Search{}
	}
	v.c.Search.LRs = l
	return nil
}

// registerSearch adds --lr, --lr-grid and --carve.
func (c *Config) registerSearch(fs *flag.FlagSet) {
	fs.Var(lrValue{c}, "lr", "base `learning rate` per 256 images, scaled by global batch/256 (full mode: batch × ranks) (0: 0.1 full, 1.0 linear), "+
		"or auto: try each of --lr-grid on a part of the train split carved out of it (--carve), and train with the best")
	fs.Var(gridValue{c}, "lr-grid", "with --lr auto: the candidate learning rates (default: 0.03,0.1,0.3,1,3 full; 0.1,0.3,1,3,10 linear); implies --lr auto")
	fs.Float64Var(&c.carve, "carve", DefaultCarve, "with --lr auto: the fraction of each class's training images held out to score the candidates")
}
