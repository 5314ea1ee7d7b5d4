package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"weaksup/atomicfile"
	"weaksup/finetune"
	"weaksup/plot"
	"weaksup/pretrain"
	"weaksup/runs"
)

// Sweep is a series of pretraining runs that differ in one setting (label
// noise, number of images), each transferred to a target task with a linear
// probe: the paper's label-noise and data-scale experiments.
type Sweep struct {
	Name    string // "noise" or "scale": names the run directories and files
	Setting string // axis label: "label noise p", "pretraining images"
	Values  []float64
	// Apply sets the swept value on a pretraining config.
	Apply func(pc *pretrain.Config, v float64) error
	// X maps a value to its x coordinate (e.g. a fraction to an image
	// count); nil uses the value.
	X    func(v float64) float64
	LogX bool

	Workdir  string
	Pretrain pretrain.Config // Shards, arch, steps...; Out is set per value
	Target   finetune.Config // Task and Data of the target task; Mode, From, Out set per value
	Log      io.Writer
}

// SweepPoint is one value of a sweep.
type SweepPoint struct {
	Value      float64 `json:"value"`
	X          float64 `json:"x"`
	Precision1 float64 `json:"precision_at_1"` // held-out hashtag prediction
	MAP        float64 `json:"map"`
	Top1       float64 `json:"top1"` // linear probe on the target task
	Top5       float64 `json:"top5"`
	LR         float64 `json:"lr"` // the probe's, chosen by its search
	Pretrain   string  `json:"pretrain"`
	Probe      string  `json:"probe"`
}

// Run runs every value in turn (each resumes where it stopped), then
// writes <workdir>/<name>.json, <name>.md and plots/<name>.png.
func (s *Sweep) Run(ctx context.Context) ([]SweepPoint, error) {
	log := s.Log
	if log == nil {
		log = io.Discard
	}
	var pts []SweepPoint
	for _, v := range s.Values {
		tag := strconv.FormatFloat(v, 'g', -1, 64)
		dir := filepath.Join(s.Workdir, s.Name, s.Name+"="+tag)
		pc := s.Pretrain
		pc.Out, pc.Resume = filepath.Join(dir, "pretrain"), true
		if err := s.Apply(&pc, v); err != nil {
			return nil, err
		}
		fc := s.Target
		fc.Mode, fc.From, fc.Resume, fc.Log = finetune.ModeLinear, pc.Out, true, log
		fc.Out = filepath.Join(dir, "linear")
		// A point made with other settings is refused, not reused.
		if err := runs.Claim(dir, struct {
			Pretrain pretrain.Config `json:"pretrain"`
			Probe    finetune.Config `json:"probe"`
		}{pc, fc}); err != nil {
			return nil, err
		}
		pt, reused, err := runs.Do(dir, func() (SweepPoint, error) { return s.point(ctx, v, tag, pc, fc, log) })
		if err != nil {
			return nil, err
		}
		if reused {
			fmt.Fprintf(log, "%s: %s = %s: done before (%s)\n", s.Name, s.Setting, tag, dir)
		}
		pts = append(pts, pt)
	}
	return pts, s.write(pts)
}

// point pretrains with the swept value v and probes the target task;
// each part resumes where it stopped.
func (s *Sweep) point(ctx context.Context, v float64, tag string, pc pretrain.Config, fc finetune.Config, log io.Writer) (SweepPoint, error) {
	fmt.Fprintf(log, "%s: %s = %s: pretraining\n", s.Name, s.Setting, tag)
	r, err := pretrain.Run(ctx, pc, log)
	if err != nil {
		return SweepPoint{}, fmt.Errorf("%s %s: pretrain: %w", s.Name, tag, err)
	}
	fmt.Fprintf(log, "%s: %s = %s: linear probe on %s\n", s.Name, s.Setting, tag, fc.Data)
	fr, err := finetune.Run(ctx, fc)
	if err != nil {
		return SweepPoint{}, fmt.Errorf("%s %s: linear probe: %w", s.Name, tag, err)
	}
	pt := SweepPoint{Value: v, X: v, Top1: fr.Metrics.Top1, Top5: fr.Metrics.Top5, LR: fr.LR, Pretrain: pc.Out, Probe: fc.Out}
	if s.X != nil {
		pt.X = s.X(v)
	}
	if r.Eval != nil {
		pt.Precision1, pt.MAP = r.Eval.PrecisionAt1, r.Eval.MAP
	}
	return pt, nil
}

func (s *Sweep) write(pts []SweepPoint) error {
	b, err := json.MarshalIndent(pts, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(s.Workdir, s.Name+".json"), append(b, '\n')); err != nil {
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "# %s experiment\n\n%s ResNeXt, %d pretraining steps per run; linear probe on %s (%s)",
		s.Name, s.Pretrain.Arch, s.Pretrain.Steps, s.Target.Data, s.Target.Task)
	if s.Target.Search != nil {
		sb.WriteString(", each point's learning rate chosen the same way on a part carved out of the target's training images")
	}
	sb.WriteString(".\n\n")
	fmt.Fprintf(&sb, "| %s | held-out precision@1 | held-out mAP | target top-1 | target top-5 | learning rate |\n|---|---|---|---|---|---|\n", s.Setting)
	chart := sweepChart(s, pts)
	for _, p := range pts {
		fmt.Fprintf(&sb, "| %s | %.3f | %.3f | %.1f%% | %.1f%% | %g |\n", strconv.FormatFloat(p.X, 'g', -1, 64), p.Precision1, p.MAP, 100*p.Top1, 100*p.Top5, p.LR)
	}
	fmt.Fprintf(&sb, "\n![%s](%s/%s.png)\n", s.Name, demoPlotsDir, s.Name)
	if err := os.MkdirAll(filepath.Join(s.Workdir, demoPlotsDir), 0o755); err != nil {
		return fmt.Errorf("write %s plot: %w", s.Name, err)
	}
	if err := chart.Save(filepath.Join(s.Workdir, demoPlotsDir, s.Name+".png")); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(s.Workdir, s.Name+".md"), []byte(sb.String()))
}

// sweepChart plots target accuracy and held-out precision@1 against the
// swept setting.
func sweepChart(s *Sweep, pts []SweepPoint) plot.LineChart {
	var acc, p1 plot.Series
	acc.Name, p1.Name = "target top-1 (linear probe)", "held-out hashtag precision@1"
	for _, p := range pts {
		acc.X, acc.Y = append(acc.X, p.X), append(acc.Y, p.Top1)
		p1.X, p1.Y = append(p1.X, p.X), append(p1.Y, p.Precision1)
	}
	acc.Points, p1.Points, p1.Dashed = true, true, true
	return plot.LineChart{Title: "Transfer accuracy against " + s.Setting, XLabel: s.Setting, YLabel: "accuracy",
		Series: []plot.Series{acc, p1}, LogX: s.LogX}
}
