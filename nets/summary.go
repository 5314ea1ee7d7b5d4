package nets

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Summary describes a network as torchinfo does: its size, its cost at an
// input size, and a row per part (stem, each stage, the closing BN, the
// classifier). Summarize computes it from the same construction code as
// NewResNeXt, without libtorch.
type Summary struct {
	Arch     Arch
	Block    Block
	Shortcut Shortcut
	Input    int // input side in pixels
	Classes  int
	// Params counts every trainable element (conv and fc weights and
	// biases, batch-norm scales and shifts, SkipInit's alphas), as
	// torchinfo's "Trainable params".
	Params int64
	// Weights counts the conv and fc weights and biases alone, leaving out
	// batch norm and alpha: the count the papers quote (He et al.'s
	// ResNet-1001 "10.2M" has 10.33M trainable parameters with its BN).
	Weights int64
	// MACs counts the multiply-adds of the convolutions and the fc layer
	// for one image of Input×Input pixels.
	MACs int64
	// Depth is the number of weighted layers: the stem conv, every conv
	// of the blocks' branches and the fc layer (projections not counted).
	Depth int
	Parts []PartSummary
}

// PartSummary is one row of a Summary.
type PartSummary struct {
	Name   string  // "stem", "layer1", ..., "bn_final", "fc"
	Blocks int     // residual blocks (stages only)
	Output []int64 // output shape of one image: [C, H, W], or [classes]
	Params int64
	MACs   int64
}

// summaryCounter accumulates a Summary while a builder runs without
// creating tensors.
type summaryCounter struct {
	s     *Summary
	index map[string]int
}

// add counts a layer called name: trainable elements, of which weights
// outside batch norm, multiply-adds, and whether it adds to the depth.
func (c *summaryCounter) add(name string, params, weights, macs int64, layer bool) {
	part, _, _ := strings.Cut(name, ".")
	if part == "conv1" || part == "bn1" {
		part = "stem"
	}
	i, ok := c.index[part]
	if !ok {
		i = len(c.s.Parts)
		c.index[part] = i
		c.s.Parts = append(c.s.Parts, PartSummary{Name: part})
	}
	c.s.Parts[i].Params += params
	c.s.Parts[i].MACs += macs
	c.s.Params += params
	c.s.Weights += weights
	c.s.MACs += macs
	if layer {
		c.s.Depth++
	}
}

// Summarize describes the network o builds, at input images of side
// pixels (side ≥ 1). It needs no libtorch: the builder counts instead of
// creating tensors, so the counts are those of NewResNeXt's model.
func Summarize(o Options, side int) (Summary, error) {
	if side < 1 {
		return Summary{}, fmt.Errorf("summarize %s: input side %d, want ≥ 1", o.Arch.Name, side)
	}
	m := &ResNeXt{}
	b, err := newBuilder(m, &o, side)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{Arch: o.Arch, Block: o.Block, Shortcut: o.Shortcut, Input: side, Classes: o.NumClasses}
	b.sum = &summaryCounter{s: &s, index: map[string]int{}}
	b.build()
	if b.err != nil {
		return Summary{}, fmt.Errorf("summarize %s: %w", o.Arch.Name, b.err)
	}
	// Output shapes, part by part.
	a := o.Arch
	c, h := int64(a.StemWidth), int64(stemOutSide(a, side))
	blocks := map[string]int{}
	shapes := map[string][]int64{"stem": {c, h, h}}
	for st := range a.Layers {
		spec := a.stage(st)
		h = int64(convOutSide(int(h), spec.Stride))
		c = int64(spec.Out)
		shapes[spec.Name] = []int64{c, h, h}
		blocks[spec.Name] = spec.Blocks
	}
	shapes["bn_final"] = []int64{c, h, h}
	shapes["fc"] = []int64{int64(o.NumClasses)}
	for i := range s.Parts {
		p := &s.Parts[i]
		p.Output, p.Blocks = shapes[p.Name], blocks[p.Name]
	}
	return s, nil
}

// Millions formats a count in millions with two decimals ("0.27M").
func Millions(n int64) string { return fmt.Sprintf("%.2fM", float64(n)/1e6) }

// humanCount formats a count of multiply-adds: "40.6M", "4.23G".
func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// Write prints the summary as `weaksup arch` shows it: a header and a
// torchinfo-style table of parts.
func (s Summary) Write(w io.Writer) error {
	bw := &errWriter{w: w}
	fmt.Fprintf(bw, "%s: %d layers, %s blocks, shortcut %s, %d classes, %dx%d input\n",
		s.Arch.Name, s.Depth, s.Block, shortcutLabel(s), s.Classes, s.Input, s.Input)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "part\tblocks\toutput shape\tparams\tmult-adds")
	for _, p := range s.Parts {
		blocks := ""
		if p.Blocks > 0 {
			blocks = fmt.Sprint(p.Blocks)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, blocks, shapeString(p.Output), commas(p.Params), humanCount(p.MACs))
	}
	fmt.Fprintf(tw, "total\t%d\t\t%s\t%s\n", s.Arch.Blocks(), commas(s.Params), humanCount(s.MACs))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(bw, "trainable params: %s (%s)\n", commas(s.Params), Millions(s.Params))
	fmt.Fprintf(bw, "weights (no BN):  %s (%s)\n", commas(s.Weights), Millions(s.Weights))
	fmt.Fprintf(bw, "mult-adds:        %s (%s per %dx%d image)\n", commas(s.MACs), humanCount(s.MACs), s.Input, s.Input)
	return bw.err
}

func shortcutLabel(s Summary) string {
	switch {
	case designs[s.Block].plain:
		return "none"
	case s.Shortcut == ShortcutA:
		return "A (zero padding)"
	}
	return "B (projection)"
}

func shapeString(s []int64) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprint(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// commas formats n with thousands separators.
func commas(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + commas(-n)
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
