package resnets

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"

	"weaksup/atomicfile"
	"weaksup/datasets"
)

// StandInConfig sizes the generated stand-in for CIFAR-10.
type StandInConfig struct {
	Train int    `json:"train"` // training images (spread over data_batch_1..5.bin)
	Test  int    `json:"test"`  // test images (test_batch.bin)
	Seed  uint64 `json:"seed"`
}

// StandInClasses are the ten classes of the stand-in, one shape each.
var StandInClasses = []string{"disk", "ring", "square", "frame", "triangle", "plus", "cross", "hstripes", "vstripes", "checker"}

// standInFile records the config a stand-in was generated with, beside
// its batch files.
const standInFile = "standin.json"

// GenerateStandIn writes a learnable CIFAR-10 stand-in in the exact
// binary layout into dir/cifar-10-batches-bin and returns that folder; a
// stand-in generated there earlier with the same config is reused.
//
// Each 32×32 image shows one anti-aliased shape whose kind is the class —
// disk, ring, filled square, square frame, triangle, plus, diagonal
// cross, horizontally striped disk, vertically striped disk, checkered
// square — at a random position (center within 9–23 px), size (radius
// 5–11 px) and rotation (±20°), in a random color over a random two-color
// gradient background, with up to three small distractor blobs and
// Gaussian pixel noise (σ 8/255). Color, position and size carry no class
// information: a network has to learn the shapes. Classes are balanced
// and the records are in random order.
func GenerateStandIn(dir string, cfg StandInConfig) (string, error) {
	if cfg.Train < 5 || cfg.Test < 1 {
		return "", fmt.Errorf("generate cifar stand-in: %d train and %d test images, want ≥ 5 and ≥ 1", cfg.Train, cfg.Test)
	}
	root := filepath.Join(dir, datasets.CIFAR10Folder)
	if b, err := os.ReadFile(filepath.Join(root, standInFile)); err == nil {
		var old StandInConfig
		if json.Unmarshal(b, &old) == nil && reflect.DeepEqual(old, cfg) {
			if _, err := datasets.OpenCIFAR10(root); err == nil {
				return root, nil
			}
		}
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	gen := func(n int) []datasets.CIFARRecord {
		recs := make([]datasets.CIFARRecord, n)
		for i := range recs {
			c := i % len(StandInClasses)
			recs[i].Label = uint8(c)
			drawStandIn(&recs[i].Pixels, c, r)
		}
		r.Shuffle(n, func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		return recs
	}
	train, test := gen(cfg.Train), gen(cfg.Test)
	if _, err := datasets.WriteCIFAR10(dir, StandInClasses, train, test); err != nil {
		return "", fmt.Errorf("generate cifar stand-in: %w", err)
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	if err := atomicfile.WriteFile(filepath.Join(root, standInFile), append(b, '\n')); err != nil {
		return "", fmt.Errorf("generate cifar stand-in: %w", err)
	}
	return root, nil
}

// rgb is a color with channels in [0,1].
type rgb [3]float64

func randomColor(r *rand.Rand) rgb {
	// A random hue at random saturation and value, so color tells nothing
	// of the class.
	h, s, v := r.Float64()*6, 0.3+0.7*r.Float64(), 0.35+0.65*r.Float64()
	i, f := math.Floor(h), h-math.Floor(h)
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	switch int(i) {
	case 0:
		return rgb{v, t, p}
	case 1:
		return rgb{q, v, p}
	case 2:
		return rgb{p, v, t}
	case 3:
		return rgb{p, q, v}
	case 4:
		return rgb{t, p, v}
	}
	return rgb{v, p, q}
}

// shapeSDF is the signed distance, in units of the shape's radius, from
// the point (u, v) of the shape's frame to the edge of shape class c
// (negative inside); stripes and checks are a second color inside it.
func shapeSDF(c int, u, v float64) (d float64, second bool) {
	box := func(u, v, a, b float64) float64 {
		du, dv := math.Abs(u)-a, math.Abs(v)-b
		return math.Hypot(math.Max(du, 0), math.Max(dv, 0)) + math.Min(math.Max(du, dv), 0)
	}
	switch c {
	case 0: // disk
		return math.Hypot(u, v) - 1, false
	case 1: // ring
		return math.Abs(math.Hypot(u, v)-0.75) - 0.25, false
	case 2: // square
		return box(u, v, 0.85, 0.85), false
	case 3: // frame
		return math.Abs(box(u, v, 0.7, 0.7)) - 0.2, false
	case 4: // equilateral triangle, apex up
		k := math.Sqrt(3)
		px, py := math.Abs(u)-1, -v+1/k // y up; side 2
		if px+k*py > 0 {
			px, py = (px-k*py)/2, (-k*px-py)/2
		}
		px -= math.Max(-2, math.Min(0, px))
		return -math.Hypot(px, py) * math.Copysign(1, py), false
	case 5: // plus
		return math.Min(box(u, v, 1, 0.28), box(u, v, 0.28, 1)), false
	case 6: // diagonal cross
		s := math.Sqrt2 / 2
		a, b := (u+v)*s, (u-v)*s
		return math.Min(box(a, b, 1, 0.26), box(a, b, 0.26, 1)), false
	case 7: // horizontally striped disk
		return math.Hypot(u, v) - 1, math.Sin(v*3*math.Pi) > 0
	case 8: // vertically striped disk
		return math.Hypot(u, v) - 1, math.Sin(u*3*math.Pi) > 0
	}
	// checkered square
	return box(u, v, 0.85, 0.85), math.Sin(u*2.5*math.Pi)*math.Sin(v*2.5*math.Pi) > 0
}

// drawStandIn paints one stand-in image of class c into pix (CIFAR record
// order: red plane, green plane, blue plane).
func drawStandIn(pix *[datasets.CIFARPixelBytes]byte, c int, r *rand.Rand) {
	const side = datasets.CIFARSide
	var img [side * side]rgb
	// Background: a gradient between two random dark-to-mid colors.
	b0, b1 := randomColor(r), randomColor(r)
	for i := range b0 {
		b0[i], b1[i] = b0[i]*0.7, b1[i]*0.7
	}
	ga := r.Float64() * 2 * math.Pi
	gx, gy := math.Cos(ga), math.Sin(ga)
	for y := range side {
		for x := range side {
			t := 0.5 + ((float64(x)-15.5)*gx+(float64(y)-15.5)*gy)/45
			for k := range 3 {
				img[y*side+x][k] = b0[k]*(1-t) + b1[k]*t
			}
		}
	}
	paint := func(cls int, cx, cy, rad, rot float64, fg, fg2 rgb) {
		sn, cs := math.Sincos(-rot)
		for y := range side {
			for x := range side {
				dx, dy := (float64(x)+0.5-cx)/rad, (float64(y)+0.5-cy)/rad
				u, v := dx*cs-dy*sn, dx*sn+dy*cs
				d, second := shapeSDF(cls, u, v)
				a := math.Max(0, math.Min(1, 0.5-d*rad)) // one-pixel anti-aliased edge
				if a == 0 {
					continue
				}
				col := fg
				if second {
					col = fg2
				}
				p := &img[y*side+x]
				for k := range 3 {
					p[k] += a * (col[k] - p[k])
				}
			}
		}
	}
	// Distractors: small disks and squares, drawn first and partly hidden.
	for range r.IntN(4) {
		paint([]int{0, 2}[r.IntN(2)], 2+r.Float64()*28, 2+r.Float64()*28, 1.5+r.Float64()*1.5, 0, randomColor(r), rgb{})
	}
	fg := randomColor(r)
	fg2 := rgb{1 - fg[0], 1 - fg[1], 1 - fg[2]}
	paint(c, 9+r.Float64()*14, 9+r.Float64()*14, 5+r.Float64()*6, (r.Float64()*2-1)*math.Pi/9, fg, fg2)
	for i, p := range img {
		for k := range 3 {
			v := p[k] + r.NormFloat64()*8/255
			pix[k*side*side+i] = uint8(math.Max(0, math.Min(255, math.Round(v*255))))
		}
	}
}
