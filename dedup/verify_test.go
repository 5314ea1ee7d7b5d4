package dedup

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/thumbnail"
)

func thumbFloats(t []byte) []float32 {
	f := make([]float32, len(t))
	for i, v := range t {
		f[i] = float32(v)
	}
	return f
}

// TestPrepareBandPass checks the prepared thumbnail against the band-pass
// written plainly: a 3x3 mean minus a 9x9 mean, zero mean, unit length.
func TestPrepareBandPass(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	p := make([]float32, thumbnail.LumaLen)
	for i := range p {
		p[i] = float32(rng.IntN(256))
	}
	in, out := boxMean(p, thumbnail.Side, bandInner), boxMean(p, thumbnail.Side, bandOuter)
	want := make([]float64, thumbnail.LumaLen)
	var mean, norm float64
	for i := range want {
		want[i] = float64(in[i] - out[i])
		mean += want[i]
	}
	mean /= thumbnail.LumaLen
	for i := range want {
		want[i] -= mean
		norm += want[i] * want[i]
	}
	got := prepare(p)
	for i := range want {
		if w := want[i] / math.Sqrt(norm); math.Abs(float64(got[i])-w) > 1e-4 {
			t.Fatalf("pixel %d: %g, want %g", i, got[i], w)
		}
	}
	// The plain box mean itself, at a corner and inside.
	if m := boxMean([]float32{1, 2, 3, 4}, 2, 1); !slices.Equal(m, []float32{2.5, 2.5, 2.5, 2.5}) {
		t.Errorf("boxMean of a 2x2 plane = %v, want all 2.5", m)
	}
}

func TestCorrelate(t *testing.T) {
	photos := testkit.Photos(t, photoDir)
	a := thumbnail.Make(photos["Garden.jpg"])
	sa := prepareThumb(a)
	if len(a) != thumbnail.Len {
		t.Fatalf("thumbnail of %d bytes, want %d", len(a), thumbnail.Len)
	}
	if s := correlate(sa, sa); math.Abs(s-1) > 1e-5 {
		t.Errorf("self correlation = %g, want 1", s)
	}
	// Brightness and contrast (without clipping) leave the score at 1.
	f := thumbFloats(a[:thumbnail.LumaLen])
	for i := range f {
		f[i] = 0.7*f[i] + 30
	}
	if s := correlate(sa, prepare(f)); s < 0.999 {
		t.Errorf("affine grey change: score %g, want 1", s)
	}
	// Another photograph scores low.
	for _, other := range []string{"Dune.jpg", "Storm.jpg", "Wood.jpg"} {
		if s := correlate(sa, prepareThumb(thumbnail.Make(photos[other]))); s > 0.5 {
			t.Errorf("Garden vs %s: score %.3f, want <= 0.5", other, s)
		}
	}
	// A flat image has nothing to correlate: it scores 0, even with itself.
	flat := prepareThumb(make([]byte, thumbnail.Len))
	if s := correlate(flat, flat); s != 0 {
		t.Errorf("flat image: score %g, want 0", s)
	}
}

// TestVerifyViews checks the verification on copies of a photograph: each
// verifies through the view it was cut like, with a higher score than the
// image view gives it; another photograph is rejected.
func TestVerifyViews(t *testing.T) {
	photos := testkit.Photos(t, photoDir)
	img := tile(photos["LadyBird.jpg"], photos["LadyBird.jpg"].Bounds(), 300)
	sig, err := Sign(img)
	if err != nil {
		t.Fatal(err)
	}
	ts := &TestSet{Spec: Spec{Name: "t"}, Images: []string{"lady.jpg"}, Hashes: sig.Hashes[:1], Mirrors: sig.Hashes[1:2], Sigs: []Signature{sig}}
	cat := NewCatalog([]*TestSet{ts}, DefaultRadius)
	b := img.Bounds()
	copies := map[string]image.Image{
		"image":     reencode(img, 60),
		"mirror":    reencode(Mirror(img), 80),
		"crop90-bl": reencode(subImage(img, image.Rect(0, b.Dy()/10, b.Dx()*9/10, b.Dy())), 80),
		"crop95":    scale(subImage(img, image.Rect(b.Dx()/40, b.Dy()/40, b.Dx()*39/40, b.Dy()*39/40)), 0.7),
	}
	all := make([]ViewHit, len(Views))
	for v := range Views {
		all[v] = ViewHit{View: v, Distance: 1}
	}
	for view, cp := range copies {
		q := NewQuery(thumbnail.Make(cp))
		m, ok := cat.Verify(Candidate{Set: 0, Image: 0, Views: all}, q, DefaultConfig())
		if !ok || m.View != view || m.Test != TestNCC {
			t.Errorf("copy cut like %s: verified %v as %+v, want a copy through view %s", view, ok, m, view)
		}
		if view != "image" {
			only, _ := cat.Verify(Candidate{Set: 0, Image: 0, Views: all[:1]}, q, DefaultConfig())
			if only.Score >= m.Score {
				t.Errorf("copy cut like %s: image view scores %.3f, its own view %.3f; want lower", view, only.Score, m.Score)
			}
		}
	}
	// The same picture in other colours (red and blue swapped) has its
	// structure but fails on chroma.
	swapped := toRGBACopy(img)
	for i := 0; i < len(swapped.Pix); i += 4 {
		swapped.Pix[i], swapped.Pix[i+2] = swapped.Pix[i+2], swapped.Pix[i]
	}
	sq := NewQuery(thumbnail.Make(swapped))
	if m, ok := cat.Verify(Candidate{Set: 0, Image: 0, Views: all}, sq, DefaultConfig()); ok || m.Chroma <= DefaultMaxChroma {
		t.Errorf("recoloured copy: verified %v as %+v, want rejected on chroma", ok, m)
	}
	if m := cat.Best(Candidate{Set: 0, Image: 0, Views: all}, sq); m.Score < DefaultMinScore {
		t.Errorf("recoloured copy: correlation %.3f, want >= %.2f (only its colours differ)", m.Score, DefaultMinScore)
	}
	other := NewQuery(thumbnail.Make(photos["Dune.jpg"]))
	if m, ok := cat.Verify(Candidate{Set: 0, Image: 0, Views: all}, other, DefaultConfig()); ok {
		t.Errorf("another photograph verified as %+v", m)
	}
	// minScore -1 accepts every candidate.
	if _, ok := cat.Verify(Candidate{Set: 0, Image: 0, Views: all}, other, Config{MinScore: -1}); !ok {
		t.Errorf("min score -1 rejected a candidate")
	}
	// Without a thumbnail the hash decides: the image or its mirror
	// within PlainRadius.
	for _, tc := range []struct {
		views []ViewHit
		want  bool
	}{
		{[]ViewHit{{1, PlainRadius}}, true},
		{[]ViewHit{{0, PlainRadius + 2}}, false},
		{[]ViewHit{{3, 0}}, false},
	} {
		m, ok := cat.Verify(Candidate{Set: 0, Image: 0, Views: tc.views}, NewQuery(nil), DefaultConfig())
		if ok != tc.want || m.Test != TestPHash {
			t.Errorf("no thumbnail, views %v: %v %+v, want %v by phash", tc.views, ok, m, tc.want)
		}
	}
	if !slices.Equal(sig.Hashes[:2], []uint64{ts.Hashes[0], ts.Mirrors[0]}) {
		t.Errorf("signature hashes 0 and 1 are not the image's and the mirror's")
	}
}

func TestChromaDistance(t *testing.T) {
	a := make([]float32, 2*thumbnail.ChromaLen)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range a {
		a[i] = float32(128 + rng.IntN(81) - 40)
	}
	grey := make([]float32, thumbnail.ChromaLen)
	for i := range grey {
		grey[i] = 128
	}
	if d := chromaDistance(a, a, grey, grey); d > 1e-6 {
		t.Errorf("distance to itself = %g, want 0", d)
	}
	// Saturation scaled by 1.2 about grey: within the gain, distance 0.
	b := make([]float32, len(a))
	for i := range a {
		b[i] = 128 + (a[i]-128)/1.2
	}
	if d := chromaDistance(a, b, grey, grey); d > 1e-3 {
		t.Errorf("saturation x1.2: distance %g, want 0", d)
	}
	// A hue shift (Cb and Cr swapped) is far.
	c := append(slices.Clone(a[thumbnail.ChromaLen:]), a[:thumbnail.ChromaLen]...)
	if d := chromaDistance(a, c, grey, grey); d < DefaultMaxChroma {
		t.Errorf("Cb and Cr swapped: distance %.2f, want > %g", d, DefaultMaxChroma)
	}
	// Cells black on one side do not count; all black leaves nothing to
	// compare.
	dark := slices.Clone(grey)
	for i := range dark[:thumbnail.ChromaLen/2] {
		dark[i] = 0
	}
	half := slices.Clone(c)
	for i := range half {
		if i%thumbnail.ChromaLen >= thumbnail.ChromaLen/2 {
			half[i] = a[i]
		}
	}
	if d := chromaDistance(a, half, dark, grey); d > 1e-3 {
		t.Errorf("differences only in black cells: distance %.2f, want 0", d)
	}
	if d := chromaDistance(a, c, make([]float32, thumbnail.ChromaLen), grey); d != 0 {
		t.Errorf("all black: distance %.2f, want 0", d)
	}
}

// boxMean returns the mean of each pixel's (2r+1)^2 neighbourhood in an
// n x n plane, over the part of it inside the plane: what prepareInto
// computes from a summed-area table, written plainly.
func boxMean(p []float32, n, r int) []float32 {
	out := make([]float32, n*n)
	for y := range n {
		for x := range n {
			var s, c float64
			for yy := max(y-r, 0); yy < min(y+r+1, n); yy++ {
				for xx := max(x-r, 0); xx < min(x+r+1, n); xx++ {
					s += float64(p[yy*n+xx])
					c++
				}
			}
			out[y*n+x] = float32(s / c)
		}
	}
	return out
}

// toRGBACopy copies img into a new RGBA image with origin 0.
func toRGBACopy(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}
