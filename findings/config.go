package findings

import (
	"fmt"
	"io"

	"weaksup/demo"
	"weaksup/experiment"
	"weaksup/finetune"
	"weaksup/train"
)

// Sizes is the budget of every arm: the same for all arms of a run.
type Sizes struct {
	Arch    string `json:"arch"`     // the network of every arm but capacity's bigger one
	BigArch string `json:"big_arch"` // capacity: the bigger network
	// Pretraining.
	ImageSize  int     `json:"image_size"`
	Batch      int     `json:"batch"`
	Steps      int     `json:"steps"`
	LR         float64 `json:"lr"`          // base learning rate per 256 images (0: pretrain's default)
	EvalImages int     `json:"eval_images"` // held-out images per evaluation
	// Transfer.
	ProbeEpochs    int     `json:"probe_epochs"`
	FinetuneEpochs int     `json:"finetune_epochs"`
	CropScale      float64 `json:"crop_scale"`
	// Transfer is how every transfer chooses its learning rate and, from
	// pretrained weights, fine-tunes: the same for every arm.
	Transfer finetune.Protocol `json:"transfer"`
	// Swept settings.
	Noise     []float64 `json:"noise"`
	Fractions []float64 `json:"fractions"`
	// Capacity compares full data with this fraction of it.
	SmallFraction float64 `json:"small_fraction"`
	// Concreteness: tags need this many held-out positives to count.
	MinPositives int `json:"min_positives"`
	// ValFraction is the shards stage's held-out fraction in the demo
	// world. The held-out mAP depends on it (a larger held-out set has
	// positives of rarer tags, whose AP is low): the gate compares with
	// the demo's mAP only at the demo's 1%.
	ValFraction float64 `json:"val_fraction"`
	// The defaults of Config.TransferSeeds and Config.MinMAP at this size.
	TransferSeeds int     `json:"transfer_seeds"`
	MinMAP        float64 `json:"min_map"`
}

// QuickSizes runs the whole path on tiny sizes (make test).
func QuickSizes() Sizes {
	return Sizes{Arch: "tiny", BigArch: "small", ImageSize: 16, Batch: 16, Steps: 6, LR: 1, EvalImages: 200,
		ProbeEpochs: 3, FinetuneEpochs: 1, CropScale: 0.35,
		Transfer: finetune.Protocol{LinearLRs: []float64{0.3, 1}, FullLRs: []float64{0.1}, Carve: 0.3, PretrainedBackboneLRScale: 0.1},
		Noise:    []float64{0, 0.1, 0.25, 0.5}, Fractions: []float64{0.3, 1}, SmallFraction: 0.3,
		MinPositives: 1, ValFraction: 0.1, TransferSeeds: 2}
}

// FullSizes is `make findings` (--scale cpu): sized to finish within 90
// minutes on the 2-core development machine, with the pretraining budget
// and the transfer protocol of `weaksup demo` (experiment.DefaultDemo), so
// that finding 1 is the demo's comparison over paired seeds. The base arm
// must learn before anything is read: the tiny net at 24 px, 1,000 steps
// of 64 at a base learning rate of 2 per 256 images reaches a held-out
// mAP of about 0.18 on the demo's world (0.14 at a rate of 1, 0.10 at
// 0.4; BENCHMARKS.md, "The transfer protocol"), against the 0.11 the gate
// asks for. Capacity compares it with ResNet-20 (four times its
// parameters and multiply-adds): resnext29_small costs eleven times the
// tiny net, more than the budget holds.
func FullSizes() Sizes {
	d := experiment.DefaultDemo("")
	return Sizes{Arch: d.Arch, BigArch: "resnet20", ImageSize: d.ImageSize, Batch: d.Batch, Steps: d.PretrainSteps, LR: d.PretrainLR, EvalImages: 3000,
		ProbeEpochs: d.ProbeEpochs, FinetuneEpochs: d.FinetuneEpochs, CropScale: d.CropScale, Transfer: d.Transfer,
		Noise: []float64{0, 0.1, 0.25, 0.5}, Fractions: []float64{0.1, 0.3, 1}, SmallFraction: 0.1,
		MinPositives: 3, ValFraction: 0.01, TransferSeeds: 5, MinMAP: 0.11}
}

// GPUSizes is `weaksup findings --scale gpu`: the same comparisons at a
// budget for one GPU host — the small ResNeXt against resnext29_8x64d, at
// 64 px, ten times the steps of the CPU run on a three times larger world,
// five seeds per comparison and ten for finding 1. It has not been run.
func GPUSizes() Sizes {
	return Sizes{Arch: "small", BigArch: "resnext29_8x64d", ImageSize: 64, Batch: 256, Steps: 6000, LR: 0.4, EvalImages: 5000,
		ProbeEpochs: 100, FinetuneEpochs: 30, CropScale: 0.35,
		Transfer: finetune.Protocol{LinearLRs: []float64{0.1, 0.3, 1, 3, 10}, FullLRs: []float64{0.1, 0.3, 1, 3, 10}, Carve: 0.2, PretrainedBackboneLRScale: 0.1},
		Noise:    []float64{0, 0.1, 0.25, 0.5}, Fractions: []float64{0.01, 0.1, 1}, SmallFraction: 0.1,
		MinPositives: 5, ValFraction: 0.01, TransferSeeds: 10, MinMAP: 0.11}
}

// GPUWorld is the world of --scale gpu: the demo's concepts, 100,000 crawl
// images, its 30-class target task at 10 labelled images per class.
func GPUWorld() demo.WorldConfig {
	w := demo.Default()
	w.CrawlImages = 100000
	w.TargetTrain = 10
	return w
}

// QuickWorld and FullWorld are the demo worlds of --quick and of the full
// run.
func QuickWorld() demo.WorldConfig { return demo.Quick() }

// FullWorld is the world of `weaksup demo`: every concept, 30,000 crawl
// images, the 30-class fine-grained target task at 10 labelled images per
// class.
func FullWorld() demo.WorldConfig { return experiment.DefaultDemo("").World }

// Config is one findings run.
type Config struct {
	Out   string `json:"out"`
	Seeds int    `json:"seeds"` // per comparison
	// TransferSeeds, when larger, is the seeds of finding 1's two rows
	// (pretrained against scratch): the interval the project states the
	// effect by.
	TransferSeeds int `json:"transfer_seeds,omitempty"`
	// MinMAP is the held-out hashtag mAP the base arm must reach, mean
	// over seeds, before any comparison is read: below it the network has
	// not learned from the hashtags and every row says "not read".
	MinMAP float64  `json:"min_map"`
	Only   []string `json:"only,omitempty"` // comparison ids; empty: all
	// Concreteness is a CSV file of word,score (e.g. published
	// concreteness norms); empty scores tags from WordNet.
	Concreteness string `json:"concreteness,omitempty"`
	Sizes        Sizes  `json:"sizes"`

	// The demo world, unless Shards is set: then Shards, Task and Target
	// are real data, and the comparisons that rebuild the data (vocabulary,
	// de-duplication) are left out.
	World  demo.WorldConfig `json:"world"`
	Shards string           `json:"shards,omitempty"`
	Vocab  string           `json:"vocab,omitempty"` // vocab.tsv of Shards, for concreteness
	Task   string           `json:"task,omitempty"`
	Target string           `json:"target,omitempty"`

	Device  string `json:"device"`
	Threads int    `json:"threads"`
	// Precision of every pretraining and transfer ("" is auto): resolved
	// per run, so a rerun on another machine keeps each finished run's.
	Precision train.Precision `json:"precision,omitempty"`
	Command   string          `json:"command,omitempty"` // the command line, for the report
	Log       io.Writer       `json:"-"`
}

func (c *Config) check() error {
	switch {
	case c.Out == "":
		return fmt.Errorf("check findings config: no output directory (--out)")
	case c.Seeds < 1:
		return fmt.Errorf("check flag --seeds: %d, want ≥ 1 (3 or more for a spread)", c.Seeds)
	case c.Shards != "" && c.Target == "":
		return fmt.Errorf("check flags: --shards needs --data (the target task)")
	}
	if c.Device == "" {
		c.Device = "cpu"
	}
	if c.Precision == "" {
		c.Precision = train.PrecisionAuto
	}
	if c.TransferSeeds < 0 || c.MinMAP < 0 {
		return fmt.Errorf("check flags: --transfer-seeds and --min-map must not be negative")
	}
	for _, id := range c.Only {
		if lookup(id) == nil {
			return fmt.Errorf("check flag --only: unknown comparison %q (want some of %v)", id, IDs())
		}
	}
	return nil
}

// seedsOf returns the number of seeds comparison c runs.
func (c *Config) seedsOf(cmp *Comparison) int {
	if (cmp.ID == "pretrain-linear" || cmp.ID == "pretrain-full") && c.TransferSeeds > c.Seeds {
		return c.TransferSeeds
	}
	return c.Seeds
}
