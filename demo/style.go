package demo

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// primitive is a basic 2D shape, defined in a unit frame (about [-1,1]²).
type primitive uint8

const (
	primEllipse primitive = iota
	primBox               // rounded rectangle
	primPolygon           // regular polygon with param sides
	primStar              // wavy outline: petals, spikes, blobs
	primRing
	primCapsule // a bar with round ends along x
	primTriangle
	numPrimitives
)

var primitiveNames = [...]string{"ellipse", "box", "polygon", "star", "ring", "capsule", "triangle"}

func (p primitive) String() string { return primitiveNames[p] }

// pattern is the texture painted on an object's primary-coloured parts.
type pattern uint8

const (
	patSolid pattern = iota
	patStripes
	patDots
	patChecker
	patRings
	patGradient
	patSpots
	patZigzag
	numPatterns
)

var patternNames = [...]string{"solid", "stripes", "dots", "checker", "rings", "gradient", "spots", "zigzag"}

func (p pattern) String() string { return patternNames[p] }

// part is one primitive of an object, placed in the object's unit frame.
type part struct {
	prim     primitive
	param    float64 // sides of a polygon, arms of a star, corner radius of a box
	dx, dy   float64 // centre in the object frame
	sx, sy   float64 // half sizes
	rot      float64 // radians
	colour   int     // 0 primary (patterned), 1 secondary, 2 accent
	wobble   float64 // star amplitude
	optional bool    // may be left out of an image (pose variation)
}

// hsv is a colour as hue (degrees), saturation and value in [0,1].
type hsv struct{ h, s, v float64 }

// style is the latent look of a concept: what every image of it shares.
// Concepts of one family share the part layout; concepts under the same
// direct hypernym also share a palette neighbourhood.
type style struct {
	parts      []part
	upright    bool // animals, buildings, vehicles keep roughly upright
	colours    [3]hsv
	pattern    pattern
	patFreq    float64 // cycles across the object
	patAngle   float64
	patDensity float64 // dot radius, stripe duty
	context    hsv     // typical background (sky, water, grass, table)
	aspect     float64 // overall x/y stretch of the object
}

// StyleSummary is the human-readable part of a concept's style, written to
// the manifest.
type StyleSummary struct {
	Shapes  []string `json:"shapes"`
	Pattern string   `json:"pattern"`
	Colours []string `json:"colours"` // hex RGB: primary, secondary, accent
}

func (s *style) summary() StyleSummary {
	var out StyleSummary
	for _, p := range s.parts {
		out.Shapes = append(out.Shapes, p.prim.String())
	}
	out.Pattern = s.pattern.String()
	for _, c := range s.colours {
		r, g, b := c.rgb()
		out.Colours = append(out.Colours, hexColour(r, g, b))
	}
	return out
}

func hexColour(r, g, b float64) string {
	const digits = "0123456789abcdef"
	buf := []byte{'#', 0, 0, 0, 0, 0, 0}
	for i, v := range []float64{r, g, b} {
		x := int(clamp01(v)*255 + 0.5)
		buf[1+2*i] = digits[x>>4]
		buf[2+2*i] = digits[x&15]
	}
	return string(buf)
}

// seeded returns a generator determined by the world seed and a key.
func seeded(seed uint64, key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// familyTemplate builds the part layout a family shares: a body and one to
// three attached parts (head, wheels, handle, petals...).
func familyTemplate(seed uint64, family string) ([]part, bool, hsv) {
	r := seeded(seed, "family/"+family)
	upright := r.Float64() < 0.6
	body := part{
		prim:  primitive(r.IntN(int(numPrimitives))),
		sx:    0.55 + 0.35*r.Float64(),
		sy:    0.45 + 0.35*r.Float64(),
		param: float64(3 + r.IntN(5)),
	}
	if body.prim == primRing || body.prim == primCapsule {
		body.prim = primEllipse
	}
	body.wobble = 0.15 + 0.2*r.Float64()
	parts := []part{body}
	n := 1 + r.IntN(3)
	for i := 0; i < n; i++ {
		a := r.Float64() * 2 * math.Pi
		if upright {
			a = -math.Pi/2 + (r.Float64()-0.5)*2.2 // attach around the top
			if i > 0 && r.Float64() < 0.5 {
				a = math.Pi/2 + (r.Float64()-0.5)*1.6 // legs, wheels below
			}
		}
		size := 0.18 + 0.25*r.Float64()
		p := part{
			prim:     primitive(r.IntN(int(numPrimitives))),
			dx:       math.Cos(a) * body.sx * 0.95,
			dy:       math.Sin(a) * body.sy * 0.95,
			sx:       size * (0.7 + 0.6*r.Float64()),
			sy:       size * (0.7 + 0.6*r.Float64()),
			rot:      r.Float64() * math.Pi,
			colour:   1 + r.IntN(2),
			param:    float64(3 + r.IntN(4)),
			wobble:   0.2 + 0.2*r.Float64(),
			optional: r.Float64() < 0.3,
		}
		if p.prim == primCapsule {
			p.sy = p.sx * 0.35
		}
		parts = append(parts, p)
		if upright && r.Float64() < 0.4 { // mirrored pair: ears, wheels, wings
			q := p
			q.dx = -p.dx
			q.rot = -p.rot
			parts = append(parts, q)
		}
	}
	ctx := hsv{h: r.Float64() * 360, s: 0.2 + 0.35*r.Float64(), v: 0.45 + 0.45*r.Float64()}
	return parts, upright, ctx
}

// conceptStyle derives a concept's style from its family template, its
// direct hypernym (shared by siblings) and its own wnid.
func conceptStyle(seed uint64, c conceptEntry) *style {
	parts, upright, ctx := familyTemplate(seed, c.family)
	fam := seeded(seed, "family-hue/"+c.family)
	parent := seeded(seed, "parent/"+c.path[len(c.path)-1])
	own := seeded(seed, "concept/"+c.wnid)

	s := &style{upright: upright, context: ctx}
	// Palette: the family's hues, nudged by the hypernym, then by the
	// concept, so siblings look alike at a glance (fine-grained, as birds
	// of CUB are) and differ in pattern, proportions and shades.
	famHue := fam.Float64() * 360
	baseHue := famHue + (parent.Float64()-0.5)*40 + (own.Float64()-0.5)*50
	s.colours[0] = hsv{h: wrapHue(baseHue), s: 0.55 + 0.45*own.Float64(), v: 0.55 + 0.45*own.Float64()}
	s.colours[1] = hsv{h: wrapHue(famHue + 180 + (parent.Float64()-0.5)*60 + (own.Float64()-0.5)*80), s: 0.3 + 0.7*own.Float64(), v: 0.2 + 0.8*own.Float64()}
	s.colours[2] = hsv{h: wrapHue(famHue + 90 + (own.Float64()-0.5)*90), s: 0.5 + 0.5*own.Float64(), v: 0.3 + 0.7*own.Float64()}

	// Texture: siblings lean towards the hypernym's pattern.
	if own.Float64() < 0.35 {
		s.pattern = pattern(parent.IntN(int(numPatterns)))
	} else {
		s.pattern = pattern(own.IntN(int(numPatterns)))
	}
	s.patFreq = 2 + 5*own.Float64()
	s.patAngle = own.Float64() * math.Pi
	s.patDensity = 0.25 + 0.5*own.Float64()
	s.aspect = 0.75 + 0.5*own.Float64()

	// Shape: same layout as the family, concept-specific proportions; one
	// part may change primitive.
	s.parts = make([]part, len(parts))
	copy(s.parts, parts)
	for i := range s.parts {
		p := &s.parts[i]
		p.sx *= 0.8 + 0.45*own.Float64()
		p.sy *= 0.8 + 0.45*own.Float64()
		p.rot += (own.Float64() - 0.5) * 0.8
		if p.prim == primPolygon || p.prim == primStar {
			p.param = float64(3 + own.IntN(5))
		}
	}
	if own.Float64() < 0.5 {
		k := own.IntN(len(s.parts))
		s.parts[k].prim = primitive(own.IntN(int(numPrimitives)))
	}
	return s
}

func wrapHue(h float64) float64 {
	h = math.Mod(h, 360)
	if h < 0 {
		h += 360
	}
	return h
}

// rgb converts to red, green, blue in [0,1].
func (c hsv) rgb() (float64, float64, float64) {
	h := wrapHue(c.h) / 60
	s, v := clamp01(c.s), clamp01(c.v)
	i := math.Floor(h)
	f := h - i
	p := v * (1 - s)
	q := v * (1 - s*f)
	t := v * (1 - s*(1-f))
	switch int(i) % 6 {
	case 0:
		return v, t, p
	case 1:
		return q, v, p
	case 2:
		return p, v, t
	case 3:
		return p, q, v
	case 4:
		return t, p, v
	default:
		return v, p, q
	}
}

func clamp01(x float64) float64 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}
