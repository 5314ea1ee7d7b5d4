package demo

import (
	"fmt"
	"image"
	"math"
	"testing"
)

// features downsamples an image to 8x8 RGB by box averaging, plus a coarse
// colour histogram: the cheapest features that see colour and layout.
func features(img *image.RGBA) []float64 {
	const g = 8
	b := img.Bounds()
	out := make([]float64, 3*g*g+64)
	cnt := make([]float64, g*g)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			p := img.Pix[y*img.Stride+4*x:]
			cell := (y*g/b.Dy())*g + x*g/b.Dx()
			for c := 0; c < 3; c++ {
				out[3*cell+c] += float64(p[c]) / 255
			}
			cnt[cell]++
			bin := int(p[0])/64*16 + int(p[1])/64*4 + int(p[2])/64
			out[3*g*g+bin] += 4.0 / float64(b.Dx()*b.Dy())
		}
	}
	for cell, n := range cnt {
		for c := 0; c < 3; c++ {
			out[3*cell+c] /= n
		}
	}
	return out
}

// nearestMeanAccuracy trains a nearest-class-mean classifier on train
// images of each style and scores it on fresh test images.
func nearestMeanAccuracy(styles []*style, train, test, size int) float64 {
	means := make([][]float64, len(styles))
	for c, s := range styles {
		for i := 0; i < train; i++ {
			f := features(renderScene(size, size, seeded(7, fmt.Sprintf("train/%d/%d", c, i)), scene{main: s, count: 1}))
			if means[c] == nil {
				means[c] = make([]float64, len(f))
			}
			for k, v := range f {
				means[c][k] += v / float64(train)
			}
		}
	}
	right := 0
	for c, s := range styles {
		for i := 0; i < test; i++ {
			f := features(renderScene(size, size, seeded(7, fmt.Sprintf("test/%d/%d", c, i)), scene{main: s, count: 1}))
			best, bestD := -1, math.Inf(1)
			for m, mean := range means {
				if d := dist(f, mean); d < bestD {
					best, bestD = m, d
				}
			}
			if best == c {
				right++
			}
		}
	}
	return float64(right) / float64(len(styles)*test)
}

// TestLearnable checks concepts are told apart from pixels by the crudest
// classifier far above chance across families, and above chance among
// siblings, which are meant to be hard (they share layout and palette).
func TestLearnable(t *testing.T) {
	all := mustConcepts(t)
	pick := func(keep func(conceptEntry) bool, n int) []*style {
		var out []*style
		for _, c := range all {
			if len(out) < n && keep(c) {
				out = append(out, conceptStyle(1, c))
			}
		}
		return out
	}
	families := map[string]bool{}
	tests := []struct {
		name   string
		styles []*style
		min    float64 // accuracy, chance is 1/len(styles)
	}{
		{"distinct-families", pick(func(c conceptEntry) bool {
			if families[c.family] {
				return false
			}
			families[c.family] = true
			return true
		}, 10), 0.25},
		{"dog-siblings", pick(func(c conceptEntry) bool { return c.family == "dog" }, 10), 0.15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.styles) != 10 {
				t.Fatalf("picked %d concepts, want 10", len(tt.styles))
			}
			acc := nearestMeanAccuracy(tt.styles, 30, 30, 48)
			t.Logf("nearest-class-mean accuracy %.3f over %d concepts (chance %.3f)", acc, len(tt.styles), 1/float64(len(tt.styles)))
			if acc < tt.min {
				t.Errorf("accuracy %.3f, want at least %.2f", acc, tt.min)
			}
		})
	}
}

func TestSDF(t *testing.T) {
	for p := primitive(0); p < numPrimitives; p++ {
		t.Run(p.String(), func(t *testing.T) {
			inside := [2]float64{0, 0}
			if p == primRing {
				inside = [2]float64{0.72, 0}
			}
			if d := sdf(p, 5, 0.2, inside[0], inside[1]); d >= 0 {
				t.Errorf("sdf at %v = %g, want negative (inside)", inside, d)
			}
			if d := sdf(p, 5, 0.2, 2.5, 2.5); d <= 0 {
				t.Errorf("sdf at (2.5,2.5) = %g, want positive (outside)", d)
			}
			if p == primRing {
				if d := sdf(p, 5, 0.2, 0, 0); d <= 0 {
					t.Errorf("ring centre: sdf %g, want positive (the hole)", d)
				}
			}
		})
	}
}

// TestStyleSharing checks siblings share their family's part layout while
// concepts of other families differ from it.
func TestStyleSharing(t *testing.T) {
	all := mustConcepts(t)
	layout := func(s *style) string {
		return fmt.Sprint(len(s.parts), s.upright)
	}
	byFamily := map[string][]*style{}
	for _, c := range all {
		byFamily[c.family] = append(byFamily[c.family], conceptStyle(1, c))
	}
	differs := 0
	for fam, ss := range byFamily {
		for _, s := range ss[1:] {
			if layout(s) != layout(ss[0]) {
				t.Errorf("family %s: layouts %s and %s", fam, layout(s), layout(ss[0]))
			}
		}
		if layout(ss[0]) != layout(byFamily["dog"][0]) {
			differs++
		}
	}
	if differs < len(byFamily)/3 {
		t.Errorf("only %d of %d families differ in layout from dogs", differs, len(byFamily))
	}
	a, b := conceptStyle(1, all[0]), conceptStyle(1, all[1])
	if a.summary().Pattern == b.summary().Pattern && fmt.Sprint(a.colours) == fmt.Sprint(b.colours) {
		t.Errorf("two concepts got the same look")
	}
}
