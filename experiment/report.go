package experiment

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"weaksup/atomicfile"
	"weaksup/demo"
	"weaksup/pipeline"
	"weaksup/plot"
	"weaksup/pretrain"
	"weaksup/train"
	"weaksup/workdir"
)

// Plot files of the demo report, under <workdir>/plots.
const (
	PlotTransfer = "transfer.png"
	PlotDedup    = "dedup_distances.png"
	PlotConcepts = "concepts.png"
	PlotPretrain = "pretrain_eval.png"
	PlotLoss     = "pretrain_loss.png"
)

// writeDemoReport writes results.json, the plots and report.md.
func writeDemoReport(workdir string, w *World, res *DemoResult) error {
	plots := filepath.Join(workdir, demoPlotsDir)
	if err := os.MkdirAll(plots, 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(workdir, DemoResults), append(b, '\n')); err != nil {
		return err
	}

	var cats []string
	var pre, scr []float64
	for _, mode := range []string{"linear", "full"} {
		p, _ := res.Accuracy(mode, "pretrained")
		s, _ := res.Accuracy(mode, "scratch")
		cats = append(cats, map[string]string{"linear": "linear probe", "full": "full fine-tuning"}[mode])
		pre, scr = append(pre, 100*p), append(scr, 100*s)
	}
	err = plot.BarChart{Title: "Target task top-1 accuracy", YLabel: "top-1 (%)", Categories: cats,
		Groups: []plot.BarGroup{{Name: "pretrained on hashtags", Values: pre}, {Name: "from scratch", Values: scr}}}.
		Save(filepath.Join(plots, PlotTransfer))
	if err != nil {
		return err
	}
	if err := dedupHistogram(filepath.Join(plots, PlotDedup), res.Dedup.Distances, res.Dedup.Radius); err != nil {
		return err
	}
	if err := demo.ContactSheet(w.World, filepath.Join(plots, PlotConcepts), min(8, len(w.Concepts)), 8); err != nil {
		return err
	}
	if err := pretrainCurves(res.Pretrain.Out, plots); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(workdir, DemoReport), []byte(demoMarkdown(w, res)))
}

// dedupHistogram draws how many matched crawl images lie at each Hamming
// distance from their test image.
func dedupHistogram(path string, distances []int, radius int) error {
	top := radius
	for _, d := range distances {
		top = max(top, d)
	}
	counts := make([]float64, top+1)
	cats := make([]string, top+1)
	for i := range cats {
		cats[i] = fmt.Sprint(i)
	}
	for _, d := range distances {
		counts[d]++
	}
	return plot.BarChart{Title: "Dedup: Hamming distance of crawl copies to test images", XLabel: "distance (bits of 64)",
		YLabel: "crawl images", Categories: cats, Groups: []plot.BarGroup{{Name: "matches", Values: counts}}}.Save(path)
}

// pretrainCurves draws the pretraining loss and held-out evaluation curves
// from the run's metrics.jsonl.
func pretrainCurves(run, plots string) error {
	rows, err := train.ReadMetrics(filepath.Join(run, "metrics.jsonl"))
	if err != nil {
		return err
	}
	var loss, p1, p5, mAP plot.Series
	loss.Name, p1.Name, p5.Name, mAP.Name = "training loss", "precision@1", "precision@5", "mAP"
	for _, r := range rows {
		if r.Kind == train.RowEval && r.EvalResult != nil {
			p1.X, p1.Y = append(p1.X, float64(r.Step)), append(p1.Y, r.PrecisionAt1)
			p5.X, p5.Y = append(p5.X, float64(r.Step)), append(p5.Y, r.PrecisionAt5)
			mAP.X, mAP.Y = append(mAP.X, float64(r.Step)), append(mAP.Y, r.MAP)
			continue
		}
		loss.X, loss.Y = append(loss.X, float64(r.Step)), append(loss.Y, r.Loss)
	}
	p1.Points, p5.Points, mAP.Points = true, true, true
	if err := (plot.LineChart{Title: "Pretraining loss (c-of-K softmax)", XLabel: "step", YLabel: "loss",
		Series: []plot.Series{loss}}).Save(filepath.Join(plots, PlotLoss)); err != nil {
		return err
	}
	return plot.LineChart{Title: "Held-out hashtag prediction", XLabel: "step", YLabel: "score",
		Series: []plot.Series{p1, p5, mAP}}.Save(filepath.Join(plots, PlotPretrain))
}

func demoMarkdown(w *World, res *DemoResult) string {
	var sb strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	cfg := w.Config
	p("# weaksup demo report\n\n")
	p("A generated world of %d WordNet concepts: %d crawl records with Zipf-distributed hashtags (synonyms, variants, captions, non-visual and wrong tags), served over loopback with injected failures; a %d-class target task with %d labelled images per class; %d near-duplicates of target test images planted in the crawl.\n\n",
		len(w.Concepts), w.Crawl.Records, cfg.TargetClasses, cfg.TargetTrain, len(w.Duplicates))
	p("![concepts](%s/%s)\n\n", demoPlotsDir, PlotConcepts)

	p("## Data pipeline\n\n| stage | counts | seconds |\n|---|---|---|\n")
	for _, name := range pipeline.StageNames() {
		p("| %s | %s | %s |\n", name, countsCell(res.Stages[name]), stageSeconds(res.Config.Workdir, name))
	}
	d := res.Dedup
	p("\n## Dedup against the target test set\n\n")
	p("Planted copies crawled: %d; caught: **%d** (recall %.1f%%); missed: %d; false positives: %d. %d planted copies were failed by the image server on purpose and never reached the store.\n\n",
		d.Planted, d.Caught, 100*d.Recall, d.Missed, d.FalsePositives, d.NotCrawled)
	p("![dedup distances](%s/%s)\n\n", demoPlotsDir, PlotDedup)

	pr := res.Pretrain
	p("## Pretraining\n\n%s ResNeXt at %d px, %d steps of batch %d on the hashtag shards with the c-of-K softmax loss, in %s: final training loss %.3f; held-out **mAP %.3f** over %d tags (precision@1 %.3f, precision@5 %.3f: both follow the most frequent tags); %.0f images/s.\n\n",
		res.Config.Arch, res.Config.ImageSize, pr.Steps, res.Config.Batch, pr.Precision, pr.Loss, pr.MAP, len(pr.TagAP), pr.Precision1, pr.Precision5, pr.ImagesPerS)
	p("Held-out AP per tag (positives): %s.\n\n", pretrain.FormatTagAPs(pr.TagAP, 8))
	p("![loss](%s/%s) ![held-out](%s/%s)\n\n", demoPlotsDir, PlotLoss, demoPlotsDir, PlotPretrain)

	p("## Transfer to the target task\n\nSame architecture, same budget; from scratch starts from MSRA initialization. ")
	p("As the findings do, %s.", res.Config.Transfer)
	p("\n\n| mode | pretrained top-1 | scratch top-1 | pretrained top-5 | scratch top-5 | learning rate chosen (pretrained, scratch) |\n|---|---|---|---|---|---|\n")
	for _, mode := range []string{"linear", "full"} {
		var pre, scr TransferResult
		for _, t := range res.Transfer {
			if t.Mode == mode && t.Init == "pretrained" {
				pre = t
			}
			if t.Mode == mode && t.Init == "scratch" {
				scr = t
			}
		}
		p("| %s | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %g, %g |\n", mode, 100*pre.Top1, 100*scr.Top1, 100*pre.Top5, 100*scr.Top5, pre.LR, scr.LR)
	}
	p("\n![transfer](%s/%s)\n\n", demoPlotsDir, PlotTransfer)

	p("## Time\n\n| part | seconds |\n|---|---|\n")
	keys := make([]string, 0, len(res.Seconds))
	for k := range res.Seconds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p("| %s | %.1f |\n", k, res.Seconds[k])
	}
	p("\nEverything is under this directory: `world/` (the generated world), `store/`, `stages/`, `vocab.tsv`, `reports/` (dedup), `shards/`, `runs/` (pretraining and transfer runs with checkpoints, metrics and plots).\n")
	return sb.String()
}

func countsCell(c map[string]int64) string {
	if len(c) == 0 {
		return "-"
	}
	return pipeline.FormatCounts(c)
}

func stageSeconds(wd, stage string) string {
	rec, ok, err := pipeline.ReadRecord(workdir.Dir(wd), stage)
	if err != nil || !ok {
		return "-"
	}
	return fmt.Sprintf("%.1f", rec.Seconds)
}
