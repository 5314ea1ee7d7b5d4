package resnets

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"weaksup/atomicfile"
	"weaksup/nets"
	"weaksup/plot"
)

// Report is what a residual-network experiment writes: its nets'
// results as <name>.json, a Markdown report <name>.md and plots under
// plots/.
type Report struct {
	Name    string      `json:"name"`
	Data    string      `json:"data"`
	Recipe  Recipe      `json:"recipe"`
	Classes int         `json:"classes"`
	Results []NetResult `json:"results"`
	// Findings are the report's sentences on what the runs show
	// (computed from the results, so they say what happened).
	Findings []string `json:"findings"`
	Plots    []string `json:"plots"` // relative to the workdir
	Markdown string   `json:"-"`
}

// write saves the report into workdir.
func (r *Report) write(workdir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(workdir, r.Name+".json"), append(b, '\n')); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(workdir, r.Name+".md"), []byte(r.Markdown))
}

// errorChart draws training error (dashed) and test error (solid) against
// epochs, one color per net, as the papers' CIFAR figures do.
func errorChart(title string, results []NetResult) plot.LineChart {
	var series []plot.Series
	for i, r := range results {
		col := plot.Palette[i%len(plot.Palette)]
		var tr, te plot.Series
		tr.Color, te.Color, tr.Dashed = col, col, true
		te.Name = r.Net.Label
		if r.Status == StatusDiverged {
			te.Name += " (diverged)"
		}
		for _, p := range r.Curve {
			tr.X, tr.Y = append(tr.X, p.Epoch), append(tr.Y, 100*p.TrainError)
			te.X, te.Y = append(te.X, p.Epoch), append(te.Y, 100*p.TestError)
		}
		tr.Points, te.Points = len(r.Curve) < 12, len(r.Curve) < 12
		series = append(series, tr, te)
	}
	return plot.LineChart{Title: title + " (dashed: training error, solid: test error)", XLabel: "epoch", YLabel: "error (%)", Series: series}
}

// lossChart draws the logged training loss against steps, one curve per
// net; a diverged net's curve ends where its loss stopped being finite.
func lossChart(title string, results []NetResult) plot.LineChart {
	var series []plot.Series
	for i, r := range results {
		s := plot.Series{Name: r.Net.Label, Color: plot.Palette[i%len(plot.Palette)]}
		if r.Status == StatusDiverged {
			s.Name += fmt.Sprintf(" (diverged, step %d)", r.DivergedAt)
		}
		for _, p := range r.Loss {
			if math.IsNaN(p.Loss) || math.IsInf(p.Loss, 0) {
				break
			}
			s.X, s.Y = append(s.X, float64(p.Step)), append(s.Y, p.Loss)
		}
		s.Points = len(s.X) < 12
		series = append(series, s)
	}
	return plot.LineChart{Title: title, XLabel: "step", YLabel: "training loss", Series: series, LogY: true}
}

// savePlot writes chart as plots/file under workdir and returns the
// relative path.
func savePlot(workdir, file string, chart plot.LineChart) (string, error) {
	if err := os.MkdirAll(filepath.Join(workdir, plotsDir), 0o755); err != nil {
		return "", fmt.Errorf("write plot %s: %w", file, err)
	}
	rel := filepath.Join(plotsDir, file)
	return rel, chart.Save(filepath.Join(workdir, rel))
}

// resultsTable is a Markdown table of the nets: layers, parameters, final
// and best errors, training time, verdict.
func resultsTable(results []NetResult, classes int) string {
	var sb strings.Builder
	sb.WriteString("| net | layers | params | epochs | final train error | final test error | best test error | train time | verdict |\n")
	sb.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		f := r.Final()
		best := math.Inf(1)
		for _, p := range r.Curve {
			best = math.Min(best, p.TestError)
		}
		cell := func(v float64) string {
			if len(r.Curve) == 0 || math.IsInf(v, 0) {
				return "–"
			}
			return fmt.Sprintf("%.1f%%", 100*v)
		}
		fmt.Fprintf(&sb, "| %s | %d | %s | %.1f | %s | %s | %s | %s | %s |\n", r.Net.Label, r.Depth, nets.Millions(r.Params), f.Epoch,
			cell(f.TrainError), cell(f.TestError), cell(best), duration(f.Seconds), r.Verdict(classes))
	}
	return sb.String()
}

func duration(secs float64) string {
	switch {
	case secs >= 3600:
		return fmt.Sprintf("%.1f h", secs/3600)
	case secs >= 60:
		return fmt.Sprintf("%.1f min", secs/60)
	}
	return fmt.Sprintf("%.0f s", secs)
}

// recipeLine describes the schedule of a report.
func recipeLine(rc Recipe, steps int) string {
	ms := make([]string, 0, len(rc.Milestones))
	for _, m := range rc.Milestones {
		ms = append(ms, fmt.Sprint(m))
	}
	s := fmt.Sprintf("SGD, momentum %g, weight decay %g, batch %d, learning rate %g", rc.Momentum, rc.WeightDecay, rc.Batch, rc.LR)
	if len(rc.MilestoneFractions) > 0 {
		fr := make([]string, 0, len(rc.MilestoneFractions))
		for _, f := range rc.MilestoneFractions {
			fr = append(fr, fmt.Sprintf("%g", f))
		}
		s += fmt.Sprintf(" divided by %g at %s of the run", 1/rc.Gamma, strings.Join(fr, " and "))
	} else if len(ms) > 0 {
		s += fmt.Sprintf(" divided by %g at steps %s", 1/rc.Gamma, strings.Join(ms, ", "))
	}
	if rc.WarmupSteps > 0 {
		s += fmt.Sprintf(", linear warm-up over %d steps", rc.WarmupSteps)
	}
	s += fmt.Sprintf(", %d steps", steps)
	if rc.Epochs > 0 {
		s += fmt.Sprintf(" (%d epochs)", rc.Epochs)
	}
	s += "; 4-pixel padding, random 32×32 crops and flips; per-channel normalization."
	return s
}

// plotsDir is the folder of an experiment's plots inside its workdir.
const plotsDir = "plots"
