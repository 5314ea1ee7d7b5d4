package findings

import (
	"context"
	"fmt"
	"math"

	"weaksup/finetune"
	"weaksup/loader"
	"weaksup/pretrain"
	"weaksup/train"
)

// SeedResult is what one seed of a comparison measured: its statistic and
// the numbers of its arms (target top-1 in %, or what Arms' names say).
type SeedResult struct {
	Seed      uint64             `json:"seed"`
	Statistic float64            `json:"statistic"`
	Arms      map[string]float64 `json:"arms"`
	Order     []string           `json:"order"` // Arms' names in the order they were measured
	// Points are the (x, y) pairs behind a fitted statistic: images and
	// top-1 for the data-scale slope, concreteness and AP per tag.
	Points []Point `json:"points,omitempty"`
	// MAP is the held-out hashtag mAP of each pretrained arm, by the
	// arm's name: what it learned before its transfer was read.
	MAP map[string]float64 `json:"map,omitempty"`
}

func (s *SeedResult) set(name string, v float64) {
	if s.Arms == nil {
		s.Arms = map[string]float64{}
	}
	if _, ok := s.Arms[name]; !ok {
		s.Order = append(s.Order, name)
	}
	s.Arms[name] = v
}

// Point is one point behind a statistic.
type Point struct {
	Label string  `json:"label,omitempty"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
}

// Comparison is one finding of the paper measured as a set of arms.
type Comparison struct {
	ID      string // what --only takes
	Finding string // the claim, in the report's first column
	Paper   string // the paper's figure
	// Statistic says what each seed reduces to; Sign is the paper's
	// direction of it (+1: positive).
	Statistic string
	Unit      string
	Sign      int
	// Variants are the data variants its arms need.
	Variants []string
	Measure  func(ctx context.Context, r *runner, seed uint64) (SeedResult, error)
}

// Comparisons is every comparison, in report order.
var Comparisons = []*Comparison{
	{ID: "pretrain-linear", Finding: "1. Pretrained vs from scratch, linear probe",
		Paper:     "pretraining wins (logistic regression on frozen hashtag-pretrained features transfers well)",
		Statistic: "pretrained − scratch top-1", Unit: "pp", Sign: +1,
		Variants: []string{DataBase},
		Measure: func(ctx context.Context, r *runner, seed uint64) (SeedResult, error) {
			return pretrainedVsScratch(ctx, r, seed, finetune.ModeLinear)
		}},
	{ID: "pretrain-full", Finding: "1. Pretrained vs from scratch, full fine-tuning",
		Paper:     "pretraining wins (85.4% ImageNet-1k top-1 after fine-tuning a hashtag-pretrained ResNeXt-101 32x48d)",
		Statistic: "pretrained − scratch top-1", Unit: "pp", Sign: +1,
		Variants: []string{DataBase},
		Measure: func(ctx context.Context, r *runner, seed uint64) (SeedResult, error) {
			return pretrainedVsScratch(ctx, r, seed, finetune.ModeFull)
		}},
	{ID: "noise", Finding: "2. Label noise p ∈ {0, 0.1, 0.25, 0.5}",
		Paper:     "small loss up to 25% noise, then a drop",
		Statistic: "(drop from p=0.25 to 0.5) − (drop from 0 to 0.25)", Unit: "pp", Sign: +1,
		Variants: []string{DataBase}, Measure: measureNoise},
	{ID: "scale", Finding: "3. Pretraining images (nested fractions)",
		Paper:     "~log-linear growth: each 10× more images adds a roughly constant amount",
		Statistic: "fitted slope of top-1 per decade of images", Unit: "pp/decade", Sign: +1,
		Variants: []string{DataBase}, Measure: measureScale},
	{ID: "capacity", Finding: "4. Capacity × data",
		Paper:     "bigger models gain more from more data (the smaller ResNeXt saturates first)",
		Statistic: "(big full − big fraction) − (small full − small fraction)", Unit: "pp", Sign: +1,
		Variants: []string{DataBase}, Measure: measureCapacity},
	{ID: "vocab", Finding: "5. Target-matched vs full vocabulary",
		Paper:     "depends on the target: the matched 1.5K set best for ImageNet, bigger sets better for other targets",
		Statistic: "matched − full top-1", Unit: "pp", Sign: +1,
		Variants: []string{DataBase, DataMatched}, Measure: measureVocab},
	{ID: "loss", Finding: "6. c-of-K softmax vs per-class sigmoid",
		Paper:     "softmax at least as good as per-class sigmoid",
		Statistic: "softmax − sigmoid top-1", Unit: "pp", Sign: +1,
		Variants: []string{DataBase}, Measure: measureLoss},
	{ID: "sampling", Finding: "7. Square-root tag resampling vs natural",
		Paper:     "sqrt helps (hashtags are Zipf-distributed)",
		Statistic: "sqrt − natural top-1", Unit: "pp", Sign: +1,
		Variants: []string{DataBase}, Measure: measureSampling},
	{ID: "dedup", Finding: "8. Test-set copies left in (dedup off vs on)",
		Paper:     "copies of test images are removed before pretraining; leakage would inflate transfer (measured whichever way it comes out)",
		Statistic: "dedup off − dedup on top-1", Unit: "pp", Sign: +1,
		Variants: []string{DataBase, DataNoDedup}, Measure: measureDedup},
	{ID: "concreteness", Finding: "9. Tag concreteness vs per-tag held-out AP",
		Paper:     "concrete (visual) tags are learned better",
		Statistic: "Spearman ρ of concreteness and per-tag AP above chance (AP − prevalence)", Unit: "ρ", Sign: +1,
		Variants: []string{DataBase}, Measure: measureConcreteness},
}

// IDs lists the comparison ids.
func IDs() []string {
	var ids []string
	for _, c := range Comparisons {
		ids = append(ids, c.ID)
	}
	return ids
}

func lookup(id string) *Comparison {
	for _, c := range Comparisons {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// baseArm is the arm every comparison varies one setting of.
func (r *runner) baseArm(seed uint64) PretrainArm {
	return PretrainArm{Data: DataBase, Arch: r.cfg.Sizes.Arch, Fraction: 1, Loss: train.LossSoftmax, Sampling: loader.SamplingNatural, Seed: seed}
}

// probe is the target top-1 (%) of a linear probe on the pretrained arm;
// it records the arm's held-out mAP in res under name.
func (r *runner) probe(ctx context.Context, res *SeedResult, name string, a PretrainArm) (float64, error) {
	if err := r.heldOut(ctx, res, name, a); err != nil {
		return 0, err
	}
	t, err := r.transfer(ctx, TransferArm{From: &a, Mode: finetune.ModeLinear, Task: r.src.Task, Target: r.src.Target, Seed: a.Seed})
	if err != nil {
		return 0, err
	}
	return 100 * t.Top1, nil
}

// heldOut records the held-out hashtag mAP of a pretraining arm in res:
// what each arm learned before its transfer is read.
func (r *runner) heldOut(ctx context.Context, res *SeedResult, name string, a PretrainArm) error {
	p, err := r.pretrain(ctx, a)
	if err != nil {
		return err
	}
	if p.Eval != nil {
		if res.MAP == nil {
			res.MAP = map[string]float64{}
		}
		res.MAP[name] = p.Eval.MAP
	}
	return nil
}

// pretrainedVsScratch transfers the base arm and a network from scratch
// of the same architecture, each with its learning rate chosen on a part
// carved out of the target's training images (the same search for both),
// and scores both on the target's val split.
func pretrainedVsScratch(ctx context.Context, r *runner, seed uint64, mode string) (SeedResult, error) {
	res := SeedResult{Seed: seed, Arms: map[string]float64{}}
	base := r.baseArm(seed)
	for _, init := range []string{"pretrained", "scratch"} {
		arm := TransferArm{Arch: r.cfg.Sizes.Arch, Mode: mode, Seed: seed, Task: r.src.Task, Target: r.src.Target}
		if init == "pretrained" {
			arm.From = &base
			if err := r.heldOut(ctx, &res, init, base); err != nil {
				return res, err
			}
		}
		t, err := r.transfer(ctx, arm)
		if err != nil {
			return res, err
		}
		res.set(init, 100*t.Top1)
		res.set(init+" lr", t.LR)
		res.set(init+" carved-val", 100*t.Carved)
	}
	res.Statistic = res.Arms["pretrained"] - res.Arms["scratch"]
	return res, nil
}

func noiseArm(p float64) string { return fmt.Sprintf("p=%g", p) }

func measureNoise(ctx context.Context, r *runner, seed uint64) (SeedResult, error) {
	res := SeedResult{Seed: seed, Arms: map[string]float64{}}
	for _, p := range r.cfg.Sizes.Noise {
		a := r.baseArm(seed)
		a.Noise = p
		acc, err := r.probe(ctx, &res, noiseArm(p), a)
		if err != nil {
			return res, err
		}
		res.set(noiseArm(p), acc)
		res.Points = append(res.Points, Point{X: p, Y: acc})
	}
	a0, a25, a50 := res.Arms[noiseArm(0)], res.Arms[noiseArm(0.25)], res.Arms[noiseArm(0.5)]
	res.Statistic = (a25 - a50) - (a0 - a25)
	if _, ok := res.Arms[noiseArm(0.5)]; !ok {
		res.Statistic = math.NaN()
	}
	return res, nil
}

func measureScale(ctx context.Context, r *runner, seed uint64) (SeedResult, error) {
	res := SeedResult{Seed: seed, Arms: map[string]float64{}}
	var xs, ys []float64
	for _, f := range r.cfg.Sizes.Fractions {
		a := r.baseArm(seed)
		a.Fraction = f
		p, err := r.pretrain(ctx, a)
		if err != nil {
			return res, err
		}
		name := fmt.Sprintf("%d images", p.Images)
		acc, err := r.probe(ctx, &res, name, a)
		if err != nil {
			return res, err
		}
		res.set(name, acc)
		res.Points = append(res.Points, Point{X: float64(p.Images), Y: acc})
		xs, ys = append(xs, math.Log10(float64(p.Images))), append(ys, acc)
	}
	res.Statistic = Slope(xs, ys)
	return res, nil
}

func measureCapacity(ctx context.Context, r *runner, seed uint64) (SeedResult, error) {
	s := r.cfg.Sizes
	res := SeedResult{Seed: seed, Arms: map[string]float64{}}
	for _, arch := range []string{s.BigArch, s.Arch} {
		for _, f := range []float64{1, s.SmallFraction} {
			a := r.baseArm(seed)
			a.Arch, a.Fraction = arch, f
			name := fmt.Sprintf("%s@%g", arch, f)
			acc, err := r.probe(ctx, &res, name, a)
			if err != nil {
				return res, err
			}
			res.set(name, acc)
		}
	}
	gain := func(arch string) float64 {
		return res.Arms[fmt.Sprintf("%s@1", arch)] - res.Arms[fmt.Sprintf("%s@%g", arch, s.SmallFraction)]
	}
	res.Statistic = gain(s.BigArch) - gain(s.Arch)
	return res, nil
}

// pair measures two arms and their difference.
func pair(ctx context.Context, r *runner, seed uint64, names [2]string, arms [2]PretrainArm) (SeedResult, error) {
	res := SeedResult{Seed: seed, Arms: map[string]float64{}}
	for i, a := range arms {
		acc, err := r.probe(ctx, &res, names[i], a)
		if err != nil {
			return res, err
		}
		res.set(names[i], acc)
	}
	res.Statistic = res.Arms[names[0]] - res.Arms[names[1]]
	return res, nil
}

func measureVocab(ctx context.Context, r *runner, seed uint64) (SeedResult, error) {
	m := r.baseArm(seed)
	m.Data = DataMatched
	return pair(ctx, r, seed, [2]string{"matched", "full"}, [2]PretrainArm{m, r.baseArm(seed)})
}

func measureLoss(ctx context.Context, r *runner, seed uint64) (SeedResult, error) {
	sig := r.baseArm(seed)
	sig.Loss = train.LossSigmoid
	return pair(ctx, r, seed, [2]string{"softmax", "sigmoid"}, [2]PretrainArm{r.baseArm(seed), sig})
}

func measureSampling(ctx context.Context, r *runner, seed uint64) (SeedResult, error) {
	sq := r.baseArm(seed)
	sq.Sampling = loader.SamplingSqrt
	return pair(ctx, r, seed, [2]string{"sqrt", "natural"}, [2]PretrainArm{sq, r.baseArm(seed)})
}

func measureDedup(ctx context.Context, r *runner, seed uint64) (SeedResult, error) {
	off := r.baseArm(seed)
	off.Data = DataNoDedup
	return pair(ctx, r, seed, [2]string{"dedup off", "dedup on"}, [2]PretrainArm{off, r.baseArm(seed)})
}

func measureConcreteness(ctx context.Context, r *runner, seed uint64) (SeedResult, error) {
	res := SeedResult{Seed: seed, Arms: map[string]float64{}}
	p, err := r.pretrain(ctx, r.baseArm(seed))
	if err != nil {
		return res, err
	}
	scorer, err := r.concreteness()
	if err != nil {
		return res, err
	}
	// A tag's AP under a random ranking is its prevalence, and the
	// non-visual tags are the frequent ones (#love): AP above that chance
	// level is what the network learned of the tag.
	var xs, ys, raw []float64
	for _, t := range pretrain.TagAPs(p.Eval, p.Tags, r.cfg.Sizes.MinPositives) {
		c, ok := scorer.Score(t.Tag)
		if !ok || p.Eval.Images == 0 {
			continue
		}
		lift := t.AP - float64(t.Positives)/float64(p.Eval.Images)
		xs, ys, raw = append(xs, c), append(ys, lift), append(raw, t.AP)
		res.Points = append(res.Points, Point{Label: t.Tag, X: c, Y: lift})
	}
	res.set("tags", float64(len(xs)))
	if p.Eval != nil {
		res.MAP = map[string]float64{"base": p.Eval.MAP}
	}
	res.set("ρ with raw AP", Spearman(xs, raw))
	res.Statistic = Spearman(xs, ys)
	return res, nil
}
