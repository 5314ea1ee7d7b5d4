package finetune

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"weaksup/datasets"
	"weaksup/demo"
	"weaksup/loader"
	"weaksup/nets"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train"
)

// The transfer experiment of the paper in miniature: pretrain a network on
// the weakly tagged crawl of a generated world (each image labelled with the
// concepts its hashtags name, wrong tags included, c-of-K softmax), then
// transfer it to the world's target task, whose classes are concepts of the
// crawl, and compare with the same transfer from a random initialization.

// taggedSource is the crawl of a world as a multi-label loader.Source: each
// image with the concepts it was tagged with.
type taggedSource struct {
	paths  []string
	labels [][]int32
	k      int
}

var _ loader.Source = (*taggedSource)(nil)

func (s *taggedSource) Len() int        { return len(s.paths) }
func (s *taggedSource) NumClasses() int { return s.k }
func (s *taggedSource) Blocks() []int {
	b := make([]int, len(s.paths))
	for i := range b {
		b[i] = 1
	}
	return b
}
func (s *taggedSource) Labels(i int) ([]int32, error) { return s.labels[i], nil }
func (s *taggedSource) Example(i int, _ []byte) (loader.Example, error) {
	b, err := os.ReadFile(s.paths[i])
	return loader.Example{Key: s.paths[i], Image: b, Labels: s.labels[i]}, err
}

// crawlSource reads truth.jsonl: every crawl image tagged with at least one
// concept, labelled by the concepts of its tags.
func crawlSource(t testing.TB, w *demo.World) *taggedSource {
	t.Helper()
	f, err := os.Open(w.Path(demo.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	index := map[string]int32{}
	for i, c := range w.Concepts {
		index[c.WNID] = int32(i)
	}
	s := &taggedSource{k: len(w.Concepts)}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r demo.TruthRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", w.Path(demo.TruthFile), err)
		}
		var ls []int32
		for _, wnid := range r.Tagged {
			if c, ok := index[wnid]; ok {
				ls = append(ls, c)
			}
		}
		if len(ls) == 0 || r.Kind == "duplicate" {
			continue
		}
		s.paths = append(s.paths, w.Path(r.Image))
		s.labels = append(s.labels, ls)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

// transferSetup sizes one run of the experiment.
type transferSetup struct {
	World          demo.WorldConfig
	Arch           string
	ImageSize      int
	PretrainEpochs int
	PretrainLR     float64
	FullEpochs     int
	FullLR         float64
	ProbeEpochs    int
	Batch          int // pretraining
	FinetuneBatch  int
}

// transferResult is the val top-1 of every arm.
type transferResult struct {
	PretrainImages                  int
	TargetTrain, TargetVal          int
	Classes                         int
	LinearPretrained, LinearScratch float64
	FullPretrained, FullScratch     float64
}

func runTransfer(t *testing.T, s transferSetup) transferResult {
	t.Helper()
	torchtest.Need(t)
	ctx := context.Background()
	dir := t.TempDir()
	w, err := demo.Generate(context.Background(), filepath.Join(dir, "world"), s.World)
	if err != nil {
		t.Fatalf("generate world: %v", err)
	}
	src := crawlSource(t, w)

	// Pretrain through the same loop fine-tuning uses.
	arch, err := nets.LookupArch(s.Arch)
	if err != nil {
		t.Fatal(err)
	}
	if err := torch.ManualSeed(7); err != nil {
		t.Fatal(err)
	}
	m, err := nets.NewResNeXt(nets.Options{Arch: arch, NumClasses: src.k, ZeroInitLastBN: true, ChannelsLast: true})
	if err != nil {
		t.Fatal(err)
	}
	tf := loader.NewTransform(s.ImageSize, true)
	tf.Scale[0] = 0.35
	pre := filepath.Join(dir, "pretrain")
	_, err = train.Run(ctx, train.Config{
		Out: pre, Label: "pretrain", Epochs: s.PretrainEpochs, Batch: s.Batch,
		Schedule: train.Schedule{BaseLR: s.PretrainLR, Decay: train.DecayCosine}, WarmupEpochs: 0.5,
		SGD: train.SGDConfig{Momentum: 0.9, WeightDecay: 1e-4}, Loss: train.LossSoftmax, EvalEvery: -1, NoPlots: true, Keep: 1,
		Extra: map[string]any{"arch": s.Arch, "image_size": s.ImageSize}, Log: testLog(),
	}, m, train.Data{Train: func(_ train.Part, resume *loader.Position) (train.Batches, error) {
		return loader.New(src, loader.Config{Batch: s.Batch, ImageSize: s.ImageSize, Train: true, Seed: 5,
			Targets: loader.TargetsNone, DropLast: true, Workers: 2, Transform: &tf, Resume: resume})
	}})
	m.Close()
	if err != nil {
		t.Fatalf("pretrain: %v", err)
	}

	data := w.Path(w.Target.Dir)
	res := transferResult{PretrainImages: src.Len(), Classes: len(w.Target.Classes),
		TargetTrain: len(w.Target.Classes) * w.Target.PerTrain, TargetVal: len(w.Target.Classes) * w.Target.PerVal}
	arm := func(from, mode string) float64 {
		cfg := Config{Task: datasets.ImageNet, Data: data, From: from, Arch: s.Arch, Mode: mode, ImageSize: s.ImageSize,
			Batch: s.FinetuneBatch, Seed: 11, Workers: 2, CropScale: 0.35, Log: testLog(),
			Out: filepath.Join(dir, fmt.Sprintf("%s-%s", mode, map[bool]string{true: "scratch", false: "pretrained"}[from == FromNone]))}
		if mode == ModeFull {
			cfg.Epochs, cfg.LR = s.FullEpochs, s.FullLR
		} else {
			cfg.Epochs = s.ProbeEpochs
		}
		if from != FromNone {
			cfg.Arch = ""
		}
		r, err := Run(ctx, cfg)
		if err != nil {
			t.Fatalf("%s from %s: %v", mode, from, err)
		}
		return r.Metrics.Top1
	}
	res.LinearPretrained = arm(pre, ModeLinear)
	res.LinearScratch = arm(FromNone, ModeLinear)
	res.FullPretrained = arm(pre, ModeFull)
	res.FullScratch = arm(FromNone, ModeFull)
	t.Logf("pretrain: %d tagged crawl images, %d concepts, %s at %d px, %d epochs; target: %d classes, %d train / %d val images",
		res.PretrainImages, src.k, s.Arch, s.ImageSize, s.PretrainEpochs, res.Classes, res.TargetTrain, res.TargetVal)
	t.Logf("val top-1   linear probe (%d epochs): pretrained %.3f  scratch %.3f", s.ProbeEpochs, res.LinearPretrained, res.LinearScratch)
	t.Logf("val top-1   full fine-tune (%d epochs): pretrained %.3f  scratch %.3f", s.FullEpochs, res.FullPretrained, res.FullScratch)
	return res
}

// quickTransfer is the always-on size of the experiment: well under a
// minute on 2 busy cores. Eight concepts of similar frequency (Zipf
// exponent 0.3) give each about 70 crawl images, enough for a few epochs of
// pretraining to learn features the 4-class target task can use.
func quickTransfer() transferSetup {
	w := demo.Quick()
	w.Concepts, w.CrawlImages, w.Duplicates, w.ZipfExponent = 8, 600, 0, 0.3
	w.TargetClasses, w.TargetTrain, w.TargetVal, w.TargetSize = 4, 6, 15, 48
	return transferSetup{World: w, Arch: "resnext_tiny", ImageSize: 24, PretrainEpochs: 5, PretrainLR: 0.4,
		FullEpochs: 8, FullLR: 0.4, ProbeEpochs: 60, Batch: 32, FinetuneBatch: 8}
}

func TestPretrainedBeatsScratch(t *testing.T) {
	r := runTransfer(t, quickTransfer())
	if r.LinearPretrained <= r.LinearScratch {
		t.Errorf("linear probe: pretrained top-1 %.3f, want above scratch %.3f", r.LinearPretrained, r.LinearScratch)
	}
	if r.FullPretrained <= r.FullScratch {
		t.Errorf("full fine-tuning: pretrained top-1 %.3f, want above scratch %.3f", r.FullPretrained, r.FullScratch)
	}
}

func testLog() io.Writer {
	if os.Getenv("ZZLOG") != "" {
		return os.Stderr
	}
	return nil
}
