package train

import (
	"path/filepath"

	"weaksup/plot"
)

// Plot file names in a run's plots directory.
const (
	PlotLoss = "loss.png" // training loss per step, held-out loss per evaluation
	PlotLR   = "lr.png"   // learning rate per step
	PlotEval = "eval.png" // precision@1, precision@5, mAP and top-1 per evaluation
)

// PlotMetrics draws the loss, learning-rate and evaluation curves of
// metrics rows as PNG files in dir.
func PlotMetrics(rows []MetricsRow, dir string) error {
	var trainLoss, lr, valLoss, p1, p5, mAP, top1 plot.Series
	trainLoss.Name, valLoss.Name = "train", "held-out"
	lr.Name = "learning rate"
	p1.Name, p5.Name, mAP.Name, top1.Name = "precision@1", "precision@5", "mAP", "top-1"
	for _, s := range []*plot.Series{&valLoss, &p1, &p5, &mAP, &top1} {
		s.Points = true
	}
	add := func(s *plot.Series, x, y float64) {
		s.X = append(s.X, x)
		s.Y = append(s.Y, y)
	}
	for _, r := range rows {
		x := float64(r.Step)
		switch {
		case r.Kind == RowTrain:
			add(&trainLoss, x, r.Loss)
			add(&lr, x, r.LR)
		case r.Kind == RowEval && r.EvalResult != nil:
			if r.EvalResult.Loss != 0 {
				add(&valLoss, x, r.EvalResult.Loss)
			}
			add(&p1, x, r.PrecisionAt1)
			add(&p5, x, r.PrecisionAt5)
			add(&mAP, x, r.MAP)
			add(&top1, x, r.Top1)
		}
	}
	charts := map[string]plot.LineChart{
		PlotLoss: {Title: "loss", XLabel: "step", YLabel: "loss", Series: []plot.Series{trainLoss, valLoss}},
		PlotLR:   {Title: "learning rate", XLabel: "step", YLabel: "learning rate", Series: []plot.Series{lr}},
		PlotEval: {Title: "held-out evaluation", XLabel: "step", YLabel: "score", Series: []plot.Series{p1, p5, mAP, top1}, LegendBottom: true},
	}
	for _, name := range []string{PlotLoss, PlotLR, PlotEval} {
		if err := charts[name].Save(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}
