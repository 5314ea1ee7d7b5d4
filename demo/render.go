package demo

import (
	"image"
	"math"
	"math/rand/v2"
)

// canvas is an RGB float image being painted, values in [0,1].
type canvas struct {
	w, h int
	pix  []float32 // r,g,b per pixel, row major
}

func newCanvas(w, h int) *canvas {
	return &canvas{w: w, h: h, pix: make([]float32, 3*w*h)}
}

// blend mixes colour c into pixel i with coverage a.
func (cv *canvas) blend(i int, a float64, r, g, b float64) {
	p := cv.pix[3*i : 3*i+3 : 3*i+3]
	af := float32(a)
	p[0] += af * (float32(r) - p[0])
	p[1] += af * (float32(g) - p[1])
	p[2] += af * (float32(b) - p[2])
}

// colourFunc returns the colour at a point of the object frame.
type colourFunc func(u, v float64) (float64, float64, float64)

// pose places an object frame on the canvas: centre in pixels, pixels per
// object unit, rotation, mirror and x stretch.
type pose struct {
	cx, cy, scale, rot float64
	mirror             bool
	aspect             float64
	sin, cos           float64 // of -rot; set by prepare
}

// prepare caches the rotation; call after setting rot.
func (p *pose) prepare() { p.sin, p.cos = math.Sincos(-p.rot) }

// toObject maps a pixel centre to the object frame.
func (p *pose) toObject(x, y float64) (float64, float64) {
	dx, dy := (x-p.cx)/p.scale, (y-p.cy)/p.scale
	s, c := p.sin, p.cos
	u, v := dx*c-dy*s, dx*s+dy*c
	if p.mirror {
		u = -u
	}
	return u / p.aspect, v
}

// toPixel maps an object-frame point to pixels.
func (p *pose) toPixel(u, v float64) (float64, float64) {
	u *= p.aspect
	if p.mirror {
		u = -u
	}
	s, c := -p.sin, p.cos
	return p.cx + p.scale*(u*c-v*s), p.cy + p.scale*(u*s+v*c)
}

// drawPart paints one part with anti-aliased edges.
func (cv *canvas) drawPart(ps *pose, pt *part, alpha float64, colour colourFunc) {
	cx, cy := ps.toPixel(pt.dx, pt.dy)
	ext := math.Max(pt.sx, pt.sy) * (1 + pt.wobble) * math.Max(ps.aspect, 1) * ps.scale * 1.05
	x0, x1 := clampInt(int(cx-ext)-1, 0, cv.w), clampInt(int(cx+ext)+2, 0, cv.w)
	y0, y1 := clampInt(int(cy-ext)-1, 0, cv.h), clampInt(int(cy+ext)+2, 0, cv.h)
	ps2, pc2 := math.Sincos(-pt.rot)
	pxPerUnit := math.Min(pt.sx, pt.sy) * math.Min(ps.aspect, 1) * ps.scale
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			u, v := ps.toObject(float64(x)+0.5, float64(y)+0.5)
			du, dv := u-pt.dx, v-pt.dy
			tu, tv := (du*pc2-dv*ps2)/pt.sx, (du*ps2+dv*pc2)/pt.sy
			d := sdf(pt.prim, pt.param, pt.wobble, tu, tv) * pxPerUnit
			a := 0.5 - d
			if a <= 0 {
				continue
			}
			if a > 1 {
				a = 1
			}
			r, g, b := colour(u, v)
			cv.blend(y*cv.w+x, a*alpha, r, g, b)
		}
	}
}

// sdf is an approximate signed distance to a unit primitive, negative inside.
func sdf(p primitive, param, wobble, u, v float64) float64 {
	switch p {
	case primBox:
		r := 0.15 + 0.1*math.Mod(param, 3)
		qx, qy := math.Abs(u)-1+r, math.Abs(v)-1+r
		out := math.Hypot(math.Max(qx, 0), math.Max(qy, 0))
		return out + math.Min(math.Max(qx, qy), 0) - r
	case primPolygon, primTriangle:
		n := param
		if p == primTriangle {
			n = 3
		}
		if n < 3 {
			n = 3
		}
		a := math.Atan2(u, -v)
		seg := 2 * math.Pi / n
		a += seg / 2
		a -= seg*math.Floor(a/seg) + seg/2
		return math.Hypot(u, v)*math.Cos(a) - math.Cos(math.Pi/n)
	case primStar:
		a := math.Atan2(v, u)
		r := 1 + wobble*math.Cos(param*a) - wobble
		return (math.Hypot(u, v) - r) * 0.7
	case primRing:
		return math.Abs(math.Hypot(u, v)-0.72) - 0.28
	case primCapsule:
		x := math.Max(math.Abs(u)-0.65, 0)
		return (math.Hypot(x, v/0.35) - 1) * 0.35
	default: // ellipse
		return math.Hypot(u, v) - 1
	}
}

func clampInt(x, lo, hi int) int {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// patternValue is 0 where the primary colour shows and 1 where the pattern
// colour shows, at object-frame point (u, v).
func patternValue(s *style, phase, u, v float64) float64 {
	f := s.patFreq
	sa, ca := math.Sincos(s.patAngle)
	w := u*ca + v*sa
	z := -u*sa + v*ca
	switch s.pattern {
	case patStripes:
		return step(frac(w*f/2+phase), s.patDensity)
	case patDots:
		a, b := frac(w*f/2+phase)-0.5, frac(z*f/2)-0.5
		return step(math.Hypot(a, b), s.patDensity*0.5)
	case patChecker:
		i := int(math.Floor(w*f/2+phase)) + int(math.Floor(z*f/2))
		return float64(i & 1)
	case patRings:
		return step(frac(math.Hypot(u, v)*f/2+phase), s.patDensity)
	case patGradient:
		return clamp01(0.5 + 0.6*w)
	case patSpots:
		cx, cy := math.Floor(w*f/2+phase), math.Floor(z*f/2)
		h := hash2(cx, cy)
		if h&3 == 0 {
			return 0
		}
		ox, oy := float64(h>>8&255)/255*0.5+0.25, float64(h>>16&255)/255*0.5+0.25
		a, b := frac(w*f/2+phase)-ox, frac(z*f/2)-oy
		return step(math.Hypot(a, b), s.patDensity*0.45)
	case patZigzag:
		t := frac(w * f)
		tri := math.Abs(t-0.5) * 2
		return step(frac(z*f/2+0.35*tri+phase), s.patDensity)
	default:
		return 0
	}
}

func frac(x float64) float64 { return x - math.Floor(x) }

// step is 1 below edge and 0 above.
func step(x, edge float64) float64 {
	if x < edge {
		return 1
	}
	return 0
}

func hash2(x, y float64) uint32 {
	h := uint32(int32(x))*0x9E3779B1 ^ uint32(int32(y))*0x85EBCA77
	h ^= h >> 15
	h *= 0x2C1B3C6D
	h ^= h >> 12
	return h
}

// toRGBA adds sensor noise and a global colour jitter and quantizes.
func (cv *canvas) toRGBA(r *rand.Rand) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, cv.w, cv.h))
	sigma := float32(r.Float64() * 0.045)
	contrast := float32(0.8 + 0.4*r.Float64())
	bright := float32((r.Float64() - 0.5) * 0.16)
	var gain [3]float32
	for i := range gain {
		gain[i] = float32(0.93 + 0.14*r.Float64())
	}
	var bits uint64
	nbits := 0
	for i := 0; i < cv.w*cv.h; i++ {
		for c := 0; c < 3; c++ {
			if nbits < 12 {
				bits, nbits = r.Uint64(), 64
			}
			n := normalTable[bits&4095]
			bits >>= 12
			nbits -= 12
			x := cv.pix[3*i+c]
			x = ((x-0.5)*contrast+0.5+bright)*gain[c] + sigma*n
			if x < 0 {
				x = 0
			} else if x > 1 {
				x = 1
			}
			img.Pix[4*i+c] = uint8(x*255 + 0.5)
		}
		img.Pix[4*i+3] = 255
	}
	return img
}

// normalTable holds standard normal quantiles at evenly spaced
// probabilities, so pixel noise costs a table lookup.
var normalTable = func() [4096]float32 {
	var t [4096]float32
	for i := range t {
		p := (float64(i) + 0.5) / float64(len(t))
		t[i] = float32(math.Sqrt2 * math.Erfinv(2*p-1))
	}
	return t
}()
