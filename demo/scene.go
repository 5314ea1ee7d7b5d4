package demo

import (
	"image"
	"math"
	"math/rand/v2"
)

// scene is what one image shows: a concept, how many of it, and optionally
// a second, smaller concept beside it.
type scene struct {
	main  *style
	count int
	other *style // nil: none
}

// renderScene draws a w×h image of sc. Everything that varies between
// images of one concept comes from r: background, clutter, pose, scale,
// position, part jitter, colour jitter, occlusion, noise.
func renderScene(w, h int, r *rand.Rand, sc scene) *image.RGBA {
	cv := newCanvas(w, h)
	paintBackground(cv, r, sc.main)
	n := sc.count
	if n < 1 {
		n = 1
	}
	minDim := float64(min(w, h))
	// Lighting: one hue cast for the whole image, so colour alone is an
	// unreliable cue and invariance to it must be learned from many images.
	cast := (r.Float64() - 0.5) * 2 * hueCast
	for i := 0; i < n; i++ {
		size := minDim * (0.32 + 0.2*r.Float64()) / math.Sqrt(float64(n))
		drawObject(cv, r, sc.main, size, cast)
	}
	if sc.other != nil {
		drawObject(cv, r, sc.other, minDim*(0.12+0.1*r.Float64()), cast)
	}
	if r.Float64() < 0.2 { // an occluder in front
		clutter(cv, r, minDim*(0.08+0.12*r.Float64()), 1)
	}
	return cv.toRGBA(r)
}

// paintBackground fills the canvas with a gradient, often in the concept's
// typical context colour, an optional horizon, and clutter shapes.
func paintBackground(cv *canvas, r *rand.Rand, s *style) {
	c1 := hsv{h: r.Float64() * 360, s: 0.05 + 0.35*r.Float64(), v: 0.3 + 0.65*r.Float64()}
	if r.Float64() < 0.45 {
		c1 = jitter(r, s.context, 20)
	}
	c2 := jitter(r, c1, 40)
	c2.v = clamp01(c2.v + (r.Float64()-0.5)*0.5)
	r1, g1, b1 := c1.rgb()
	r2, g2, b2 := c2.rgb()
	ga := r.Float64() * 2 * math.Pi
	gs, gc := math.Sincos(ga)
	horizon := 2.0 // below the image: none
	var hr, hg, hb float64
	if r.Float64() < 0.35 {
		horizon = 0.3 + 0.5*r.Float64()
		hc := hsv{h: r.Float64() * 360, s: 0.1 + 0.4*r.Float64(), v: 0.2 + 0.6*r.Float64()}
		hr, hg, hb = hc.rgb()
	}
	for y := 0; y < cv.h; y++ {
		fy := (float64(y)+0.5)/float64(cv.h) - 0.5
		for x := 0; x < cv.w; x++ {
			fx := (float64(x)+0.5)/float64(cv.w) - 0.5
			t := clamp01(0.5 + (fx*gc + fy*gs))
			i := 3 * (y*cv.w + x)
			if fy+0.5 > horizon {
				cv.pix[i], cv.pix[i+1], cv.pix[i+2] = float32(hr), float32(hg), float32(hb)
				continue
			}
			cv.pix[i] = float32(r1 + t*(r2-r1))
			cv.pix[i+1] = float32(g1 + t*(g2-g1))
			cv.pix[i+2] = float32(b1 + t*(b2-b1))
		}
	}
	minDim := float64(min(cv.w, cv.h))
	for k := r.IntN(5); k > 0; k-- {
		clutter(cv, r, minDim*(0.04+0.18*r.Float64()), 0.25+0.6*r.Float64())
	}
}

// clutter draws one random shape with a random colour.
func clutter(cv *canvas, r *rand.Rand, size, alpha float64) {
	pt := part{
		prim:   primitive(r.IntN(int(numPrimitives))),
		sx:     0.5 + 0.5*r.Float64(),
		sy:     0.5 + 0.5*r.Float64(),
		rot:    r.Float64() * math.Pi,
		param:  float64(3 + r.IntN(5)),
		wobble: 0.1 + 0.3*r.Float64(),
	}
	ps := pose{
		cx: r.Float64() * float64(cv.w), cy: r.Float64() * float64(cv.h),
		scale: size, rot: r.Float64() * 2 * math.Pi, aspect: 1,
	}
	ps.prepare()
	c := hsv{h: r.Float64() * 360, s: r.Float64() * 0.4, v: 0.2 + 0.7*r.Float64()}
	cr, cg, cb := c.rgb()
	cv.drawPart(&ps, &pt, alpha, func(u, v float64) (float64, float64, float64) { return cr, cg, cb })
}

// jitter moves a colour a little: hue by up to ±dh degrees, saturation and
// value by a few percent.
func jitter(r *rand.Rand, c hsv, dh float64) hsv {
	return hsv{
		h: wrapHue(c.h + (r.Float64()-0.5)*2*dh),
		s: clamp01(c.s * (0.85 + 0.3*r.Float64())),
		v: clamp01(c.v * (0.82 + 0.33*r.Float64())),
	}
}

// hueCast is the largest hue shift, in degrees, of an image's lighting.
const hueCast = 50

// drawObject draws one instance of a style with a random pose and size
// (size: pixels per object unit), its hues shifted by cast degrees.
func drawObject(cv *canvas, r *rand.Rand, s *style, size, cast float64) {
	ps := pose{
		cx:     float64(cv.w) * (0.15 + 0.7*r.Float64()),
		cy:     float64(cv.h) * (0.15 + 0.7*r.Float64()),
		scale:  size,
		mirror: r.Float64() < 0.5,
		aspect: s.aspect * (0.9 + 0.2*r.Float64()),
	}
	if s.upright {
		ps.rot = r.NormFloat64() * 0.25
	} else {
		ps.rot = r.Float64() * 2 * math.Pi
	}
	ps.prepare()
	var cols [3][3]float64
	for i, c := range s.colours {
		c.h += cast
		cols[i][0], cols[i][1], cols[i][2] = jitter(r, c, 12).rgb()
	}
	phase := r.Float64()
	shade := 0.3 * r.Float64()
	ls, lc := math.Sincos(r.Float64() * 2 * math.Pi)
	lit := func(u, v float64, c [3]float64) (float64, float64, float64) {
		k := 1 + shade*(u*lc+v*ls)*0.6
		return c[0] * k, c[1] * k, c[2] * k
	}
	primary := func(u, v float64) (float64, float64, float64) {
		t := patternValue(s, phase, u, v)
		var c [3]float64
		for i := range c {
			c[i] = cols[0][i] + t*(cols[1][i]-cols[0][i])
		}
		return lit(u, v, c)
	}
	for _, p := range s.parts {
		if p.optional && r.Float64() < 0.3 {
			continue
		}
		p.dx += (r.Float64() - 0.5) * 0.12
		p.dy += (r.Float64() - 0.5) * 0.12
		p.sx *= 0.9 + 0.2*r.Float64()
		p.sy *= 0.9 + 0.2*r.Float64()
		p.rot += (r.Float64() - 0.5) * 0.3
		var fill colourFunc = primary
		if p.colour > 0 {
			c := cols[p.colour]
			fill = func(u, v float64) (float64, float64, float64) { return lit(u, v, c) }
		}
		cv.drawPart(&ps, &p, 1, fill)
	}
}
