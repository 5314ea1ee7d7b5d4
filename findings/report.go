package findings

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"weaksup/atomicfile"
	"weaksup/plot"
)

// Report files in the output directory.
const (
	ReportMD   = "findings.md"
	ReportJSON = "findings.json"
	PlotsDir   = "plots"
)

// Num is a float64 that encodes NaN and infinities as JSON null.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

// UnmarshalJSON implements json.Unmarshaler: null is NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// intervalJSON is Interval as findings.json holds it: infinite bounds (too
// few seeds) as null.
type intervalJSON struct {
	N     int     `json:"n"`
	Mean  Num     `json:"mean"`
	Lo    Num     `json:"lo"`
	Hi    Num     `json:"hi"`
	Level float64 `json:"level"`
}

// MarshalJSON implements json.Marshaler.
func (iv Interval) MarshalJSON() ([]byte, error) {
	return json.Marshal(intervalJSON{iv.N, Num(iv.Mean), Num(iv.Lo), Num(iv.Hi), iv.Level})
}

// UnmarshalJSON implements json.Unmarshaler: a null bound is unbounded.
func (iv *Interval) UnmarshalJSON(b []byte) error {
	var j intervalJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	lo, hi := float64(j.Lo), float64(j.Hi)
	if math.IsNaN(lo) {
		lo = math.Inf(-1)
	}
	if math.IsNaN(hi) {
		hi = math.Inf(1)
	}
	*iv = Interval{N: j.N, Mean: float64(j.Mean), Lo: lo, Hi: hi, Level: j.Level}
	return nil
}

// Row is one comparison's line of the report.
type Row struct {
	ID        string `json:"id"`
	Finding   string `json:"finding"`
	Paper     string `json:"paper"`
	Statistic string `json:"statistic"`
	Unit      string `json:"unit"`
	Sign      int    `json:"paper_sign"`
	// Values is the statistic of each seed, Mean and Std their mean and
	// sample standard deviation; Direction compares Mean with Sign.
	Values    []Num    `json:"values"`
	Mean      Num      `json:"mean"`
	Std       Num      `json:"std"`
	CI        Interval `json:"ci"` // the statistic's 95% interval over seeds
	Direction string   `json:"same_direction"`
	// SeedsToDecide, for an inconclusive row, is how many seeds an
	// interval of this spread would need to exclude zero at this mean
	// (MaxSeedsToDecide+1: more than that; 0: nothing to say).
	SeedsToDecide int          `json:"seeds_to_decide,omitempty"`
	Seeds         []SeedResult `json:"seeds"`
	// ArmMean is each arm's mean over seeds, in ArmOrder; ArmMAP the mean
	// held-out mAP of each pretrained arm.
	ArmOrder []string       `json:"arm_order"`
	ArmMean  map[string]Num `json:"arm_mean"`
	ArmMAP   map[string]Num `json:"arm_map,omitempty"`
	Plot     string         `json:"plot,omitempty"`
	Skipped  string         `json:"skipped,omitempty"`
	Seconds  float64        `json:"seconds"`
}

// MaxSeedsToDecide bounds Row.SeedsToDecide.
const MaxSeedsToDecide = 200

// decide says, for an inconclusive row, how many seeds would settle it.
func (r Row) decide() string {
	switch n := r.SeedsToDecide; {
	case n == 0:
		return ""
	case n > MaxSeedsToDecide:
		return fmt.Sprintf(" Inconclusive: were this mean and spread (standard deviation %.2f over %d seeds) to hold, even %d seeds would not exclude zero.", float64(r.Std), len(r.Values), MaxSeedsToDecide)
	default:
		return fmt.Sprintf(" Inconclusive: were this mean and spread (standard deviation %.2f over %d seeds) to hold, about %d seeds would exclude zero.", float64(r.Std), len(r.Values), n)
	}
}

// Report is findings.json.
type Report struct {
	Command string    `json:"command"`
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	Config  Config    `json:"config"`
	// BaseMAP is the held-out hashtag mAP of the base arm, seed by seed;
	// Gate, when set, says why no row is read (the base arm learned too
	// little).
	BaseMAP  []Num  `json:"base_map"`
	Gate     string `json:"gate,omitempty"`
	Rows     []Row  `json:"rows"`
	Complete bool   `json:"complete"`
}

// NotRead is the verdict of every row while the base arm's mAP is below
// Config.MinMAP.
const NotRead = "not read"

// gate sets Gate from the base arm's mean mAP against min.
func (rep *Report) gate(min float64) {
	rep.Gate = ""
	var xs []float64
	for _, v := range rep.BaseMAP {
		xs = append(xs, float64(v))
	}
	if m := Mean(xs); len(xs) > 0 && m < min {
		rep.Gate = fmt.Sprintf("the base arm's held-out mAP is %.3f, below the %.3f it must reach before a comparison means anything: the networks have not learned from the hashtags", m, min)
	}
}

// summarize fills a row's statistics from its seeds.
func summarize(c *Comparison, seeds []SeedResult) Row {
	row := Row{ID: c.ID, Finding: c.Finding, Paper: c.Paper, Statistic: c.Statistic, Unit: c.Unit, Sign: c.Sign,
		Seeds: seeds, ArmMean: map[string]Num{}}
	var vals []float64
	for _, s := range seeds {
		row.Values = append(row.Values, Num(s.Statistic))
		if !math.IsNaN(s.Statistic) {
			vals = append(vals, s.Statistic)
		}
		for _, name := range s.Order {
			if !slices.Contains(row.ArmOrder, name) {
				row.ArmOrder = append(row.ArmOrder, name)
			}
		}
	}
	row.Mean, row.Std = Num(Mean(vals)), Num(Std(vals))
	row.CI = TInterval(vals, Level)
	row.Direction = Direction(row.CI, c.Sign)
	if row.Direction == Inconclusive {
		row.SeedsToDecide = SeedsToDecide(vals, Level, MaxSeedsToDecide)
	}
	for _, name := range row.ArmOrder {
		var xs, maps []float64
		for _, s := range seeds {
			if v, ok := s.Arms[name]; ok {
				xs = append(xs, v)
			}
			if v, ok := s.MAP[name]; ok {
				maps = append(maps, v)
			}
		}
		row.ArmMean[name] = Num(Mean(xs))
		if len(maps) > 0 {
			if row.ArmMAP == nil {
				row.ArmMAP = map[string]Num{}
			}
			row.ArmMAP[name] = Num(Mean(maps))
		}
	}
	// Arms named only in MAP (concreteness' base arm).
	extra := map[string][]float64{}
	for _, s := range seeds {
		for name, v := range s.MAP {
			if !slices.Contains(row.ArmOrder, name) {
				extra[name] = append(extra[name], v)
			}
		}
	}
	for name, vs := range extra {
		if row.ArmMAP == nil {
			row.ArmMAP = map[string]Num{}
		}
		row.ArmMAP[name] = Num(Mean(vs))
	}
	return row
}

func (r Row) measured() string {
	if r.Skipped != "" {
		return "not run: " + r.Skipped
	}
	f := "%+.2f [%+.2f, %+.2f] %s"
	if r.Unit == "ρ" {
		f = "%+.3f [%+.3f, %+.3f] %s"
	}
	s := fmt.Sprintf(f, r.CI.Mean, r.CI.Lo, r.CI.Hi, r.Unit)
	var vs []string
	for _, v := range r.Values {
		vs = append(vs, fmt.Sprintf("%.2f", float64(v)))
	}
	return s + fmt.Sprintf(" (n=%d: %s)", len(r.Values), strings.Join(vs, ", "))
}

func (r Row) arms() string {
	var parts []string
	for _, name := range r.ArmOrder {
		v := float64(r.ArmMean[name])
		switch {
		case strings.HasSuffix(name, " lr"):
			// The chosen learning rate of each seed: a mean means nothing.
			var lrs []string
			for _, s := range r.Seeds {
				lrs = append(lrs, fmt.Sprintf("%g", s.Arms[name]))
			}
			parts = append(parts, fmt.Sprintf("%s %s", name, strings.Join(lrs, "/")))
		case name == "tags":
			parts = append(parts, fmt.Sprintf("%.0f tags", v))
		case strings.HasPrefix(name, "ρ"):
			parts = append(parts, fmt.Sprintf("%s %+.3f", name, v))
		case strings.HasSuffix(name, " carved-val"):
			parts = append(parts, fmt.Sprintf("%s %.1f%%", name, v))
		default:
			s := fmt.Sprintf("%s %.1f%%", name, v)
			if m, ok := r.ArmMAP[name]; ok {
				s += fmt.Sprintf(" (mAP %.3f)", float64(m))
			}
			parts = append(parts, s)
		}
	}
	for name, m := range r.ArmMAP {
		if _, ok := r.ArmMean[name]; !ok {
			parts = append(parts, fmt.Sprintf("%s: held-out mAP %.3f", name, float64(m)))
		}
	}
	return strings.Join(parts, "; ")
}

// Markdown renders the report.
func (rep *Report) Markdown() string {
	var sb strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	p("# Findings: the recipe's claims measured\n\n")
	if rep.Command != "" {
		p("Command: `%s`  \n", rep.Command)
	}
	state := "finished"
	if !rep.Complete {
		state = "incomplete (rows not yet run are marked)"
	}
	p("Duration: %s, %s, started %s.\n\n", (time.Duration(rep.Seconds) * time.Second).String(), state, rep.Started.UTC().Format("2006-01-02 15:04 MST"))
	s := rep.Config.Sizes
	where := fmt.Sprintf("the demo world (%d crawl images, %d-class target task, %d labelled images per class)",
		rep.Config.World.CrawlImages, rep.Config.World.TargetClasses, rep.Config.World.TargetTrain)
	if rep.Config.Shards != "" {
		where = fmt.Sprintf("shards %s, target %s (%s)", rep.Config.Shards, rep.Config.Target, rep.Config.Task)
	}
	seeds := fmt.Sprintf("%d seeds per comparison", rep.Config.Seeds)
	if rep.Config.TransferSeeds > rep.Config.Seeds {
		seeds += fmt.Sprintf(" (%d for finding 1)", rep.Config.TransferSeeds)
	}
	p("On %s. Every arm: %s ResNeXt at %d px, %d pretraining steps of batch %d at a base learning rate of %g per 256 images; transfer by a linear probe (%d epochs) unless the row says otherwise; %s. ",
		where, s.Arch, s.ImageSize, s.Steps, s.Batch, s.LR, s.ProbeEpochs, seeds)
	p("A seed fixes the pretraining data order and initialization, the noise draws, the nested fractions and the carved validation split, the same for every arm of a comparison (common random numbers), so each statistic is a per-seed paired difference (or a per-seed fit). ")
	p("Measured: the statistic's mean over seeds and its %.0f%% Student-t confidence interval [lo, hi], then each seed's value. Same direction: yes (or no) when the interval lies wholly on the paper's side of zero (or the other side), inconclusive when it holds zero. Target numbers are top-1 on the target task's val split, which only the final run of each transfer sees.\n\n", 100*Level)
	var maps []string
	for _, m := range rep.BaseMAP {
		maps = append(maps, fmt.Sprintf("%.3f", float64(m)))
	}
	p("The base arm's held-out hashtag mAP, seed by seed: %s (at least %.3f wanted before any row is read).", strings.Join(maps, ", "), rep.Config.MinMAP)
	if rep.Gate != "" {
		p(" **No row is read: %s.**", rep.Gate)
	}
	p("\n\n")
	p("| finding | paper | statistic | measured: mean [95%% CI] | arms: target top-1 (held-out mAP) | same direction? |\n|---|---|---|---|---|---|\n")
	for _, r := range rep.Rows {
		dir := r.Direction
		if r.Skipped != "" {
			dir = "-"
		}
		p("| %s | %s | %s | %s | %s | **%s** |\n", r.Finding, r.Paper, r.Statistic, r.measured(), r.arms(), dir)
	}
	p("\n")
	for _, r := range rep.Rows {
		if r.Plot == "" {
			continue
		}
		p("## %s\n\n%s: %s.%s %.0f s.\n\n![%s](%s)\n\n", r.Finding, r.Statistic, r.measured(), r.decide(), r.Seconds, r.ID, r.Plot)
	}
	p("## How each row is measured\n\n")
	p("In every row, %s.\n\n", s.Transfer)
	p("1. The linear probe runs %d epochs, full fine-tuning %d.\n", s.ProbeEpochs, s.FinetuneEpochs)
	p("2. Each hashtag replaced with probability p by one drawn from the tag distribution (`--noise`).\n")
	p("3. Nested fractions %v of the train split, the same number of steps each; slope of a least-squares line of top-1 against log10(images).\n", s.Fractions)
	p("4. %s against %s, each at all the data and at a fraction %g of it.\n", s.BigArch, s.Arch, s.SmallFraction)
	p("5. The matched vocabulary keeps the tags of the full one whose WordNet synset is a target class, a hypernym or a hyponym of one; the pipeline reruns canonicalize, dedup and shards with it.\n")
	p("6. `--loss sigmoid` against the default c-of-K softmax.\n7. `--sampling sqrt` against natural sampling.\n")
	p("8. The pipeline reruns without the target test set given to dedup, so the planted copies of its val images stay in the pretraining data.\n")
	p("9. Per-tag AP on the held-out split (tags with at least %d held-out positives) of the base arm, less the tag's prevalence there (the AP of a random ranking: frequent non-visual tags such as #love would otherwise lead), against concreteness: ", s.MinPositives)
	if rep.Config.Concreteness != "" {
		p("ratings from %s.\n", rep.Config.Concreteness)
	} else {
		p("from WordNet, 0 for a synset outside physical_entity.n.01, else its depth in the hypernym tree.\n")
	}
	return sb.String()
}

// write writes findings.json and findings.md.
func (rep *Report) write(out string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode findings: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(out, ReportJSON), append(b, '\n')); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(out, ReportMD), []byte(rep.Markdown()))
}

// drawRow draws a row's plot into out/plots and sets Row.Plot.
func drawRow(out string, r *Row) error {
	if len(r.Seeds) == 0 {
		return nil
	}
	dir := filepath.Join(out, PlotsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("draw %s: %w", r.ID, err)
	}
	name := r.ID + ".png"
	var err error
	switch r.ID {
	case "noise", "scale":
		ch := plot.LineChart{Title: r.Finding, XLabel: map[string]string{"noise": "label noise p", "scale": "pretraining images"}[r.ID],
			YLabel: "target top-1 (%)", LogX: r.ID == "scale", Width: 640, Height: 400}
		for _, s := range r.Seeds {
			var ser plot.Series
			ser.Name, ser.Points = fmt.Sprintf("seed %d", s.Seed), true
			for _, pt := range s.Points {
				ser.X, ser.Y = append(ser.X, pt.X), append(ser.Y, pt.Y)
			}
			ch.Series = append(ch.Series, ser)
		}
		err = ch.Save(filepath.Join(dir, name))
	case "concreteness":
		ch := plot.LineChart{Title: "Per-tag held-out AP above chance against concreteness", XLabel: "concreteness", YLabel: "AP − prevalence", Width: 640, Height: 400}
		for _, s := range r.Seeds {
			ser := plot.Series{Name: fmt.Sprintf("seed %d (ρ %.2f)", s.Seed, s.Statistic), NoLine: true}
			for _, pt := range s.Points {
				ser.X, ser.Y = append(ser.X, pt.X), append(ser.Y, pt.Y)
			}
			ch.Series = append(ch.Series, ser)
		}
		err = ch.Save(filepath.Join(dir, name))
	default:
		var cats []string
		for _, a := range r.ArmOrder {
			if !strings.HasSuffix(a, " lr") && !strings.HasSuffix(a, " carved-val") {
				cats = append(cats, a)
			}
		}
		ch := plot.BarChart{Title: r.Finding, YLabel: "target top-1 (%)", Categories: cats, Width: 640, Height: 400}
		for _, s := range r.Seeds {
			g := plot.BarGroup{Name: fmt.Sprintf("seed %d", s.Seed)}
			for _, a := range cats {
				g.Values = append(g.Values, s.Arms[a])
			}
			ch.Groups = append(ch.Groups, g)
		}
		err = ch.Save(filepath.Join(dir, name))
	}
	if err != nil {
		return fmt.Errorf("draw %s: %w", r.ID, err)
	}
	r.Plot = PlotsDir + "/" + name
	return nil
}

// seedJSON is SeedResult as JSON, NaNs as null.
type seedJSON struct {
	Seed      uint64         `json:"seed"`
	Statistic Num            `json:"statistic"`
	Arms      map[string]Num `json:"arms"`
	Order     []string       `json:"order"`
	Points    []Point        `json:"points,omitempty"`
	MAP       map[string]Num `json:"map,omitempty"`
}

// MarshalJSON implements json.Marshaler.
func (s SeedResult) MarshalJSON() ([]byte, error) {
	j := seedJSON{Seed: s.Seed, Statistic: Num(s.Statistic), Arms: map[string]Num{}, Order: s.Order, Points: s.Points}
	if len(s.MAP) > 0 {
		j.MAP = map[string]Num{}
		for k, v := range s.MAP {
			j.MAP[k] = Num(v)
		}
	}
	for k, v := range s.Arms {
		j.Arms[k] = Num(v)
	}
	return json.Marshal(j)
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *SeedResult) UnmarshalJSON(b []byte) error {
	var j seedJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = SeedResult{Seed: j.Seed, Statistic: float64(j.Statistic), Arms: map[string]float64{}, Order: j.Order, Points: j.Points}
	for k, v := range j.Arms {
		s.Arms[k] = float64(v)
	}
	if len(j.MAP) > 0 {
		s.MAP = map[string]float64{}
		for k, v := range j.MAP {
			s.MAP[k] = float64(v)
		}
	}
	return nil
}
