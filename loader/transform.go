package loader

import (
	"fmt"
	"image"
	_ "image/png" // fine-tuning folders may hold PNGs
	"math"
	"math/rand/v2"

	"weaksup/datasets"
	"weaksup/internal/jpegturbo"
)

// ImageNet channel statistics, the default normalization.
var (
	ImageNetMean = [3]float32{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float32{0.229, 0.224, 0.225}
)

// CIFAR channel statistics of the training sets, on [0,1] pixel values.
var (
	CIFAR10Mean  = [3]float32{0.4914, 0.4822, 0.4465}
	CIFAR10Std   = [3]float32{0.2470, 0.2435, 0.2616}
	CIFAR100Mean = [3]float32{0.5071, 0.4865, 0.4409}
	CIFAR100Std  = [3]float32{0.2673, 0.2564, 0.2762}
)

// Crop modes of a Transform.
const (
	// CropResized is the ImageNet recipe: a random-resized crop in
	// training, resize and center crop in evaluation. The default.
	CropResized = ""
	// CropPadded is the CIFAR recipe of He et al. (2016): no resampling;
	// in training the image is padded with Pad zero pixels on each side,
	// a Size×Size window is cropped at random and flipped horizontally
	// with probability 1/2; in evaluation the centered Size×Size window
	// is taken (the image itself when it is Size×Size).
	CropPadded = "pad"
)

// Transform turns encoded image bytes into a normalized float32 CHW image of
// Size×Size. Training mode takes a random-resized crop (area fraction in
// Scale, aspect ratio in Ratio, log-uniform) and flips horizontally with
// probability 1/2; evaluation mode takes the centered square of side
// CropFraction × the short side (resize to Size/CropFraction, center crop
// Size). Resampling is separable, a triangle filter widened to the
// downscale factor (antialiased, like PIL's bilinear), done on the Y, Cb
// and Cr planes before color conversion. A Transform is safe for concurrent
// use; its zero value is not valid (use NewTransform).
type Transform struct {
	Size         int
	Train        bool
	Scale        [2]float64 // area fraction range of the random crop (default 0.08, 1)
	Ratio        [2]float64 // aspect ratio range of the random crop (default 3/4, 4/3)
	CropFraction float64    // evaluation center-crop fraction (default 0.875)
	Mean, Std    [3]float32 // per-channel, on [0,1] pixel values (default ImageNet)
	// Crop is CropResized (the default) or CropPadded, whose training
	// crops take Pad pixels of zero padding on each side.
	Crop string
	Pad  int
}

// NewTransform returns a transform with the defaults filled in.
func NewTransform(size int, train bool) Transform {
	return Transform{Size: size, Train: train, Scale: [2]float64{0.08, 1}, Ratio: [2]float64{3.0 / 4, 4.0 / 3},
		CropFraction: 0.875, Mean: ImageNetMean, Std: ImageNetStd}
}

// NewCIFARTransform returns the CIFAR augmentation of He et al. (2016):
// in training, 4 pixels of zero padding on each side, a random size×size
// crop and a horizontal flip with probability 1/2; in evaluation the
// image as it is; then per-channel normalization by mean and std.
func NewCIFARTransform(size int, train bool, mean, std [3]float32) Transform {
	return Transform{Size: size, Train: train, Crop: CropPadded, Pad: 4, Mean: mean, Std: std}
}

// maxPixels bounds the images Apply decodes; a damaged header can claim
// billions of pixels, and the decoders allocate what it claims.
const maxPixels = 64 << 20

// keepRGB is the largest image (in pixels) whose R, G, B planes a worker
// keeps for the next image.
const keepRGB = 4 << 20

// scratch holds per-worker buffers so Apply allocates nothing in steady state.
type scratch struct {
	planes [3][]float32 // resampled Y,Cb,Cr (or R,G,B) at Size×Size
	tmp    []float32
	rgb    [3][]uint8 // R, G, B planes of images that are neither Y'CbCr nor gray
	wx, wy filter
	dec    decoder
}

// Apply decodes data and writes 3×Size×Size floats into dst. r drives the
// random crop and flip; it is unused in evaluation mode.
func (t *Transform) Apply(dst []float32, data []byte, r *rand.Rand) error {
	sc := &scratch{}
	defer sc.dec.close()
	return t.apply(dst, Example{Image: data}, r, sc)
}

// apply transforms ex's Pixels, or else decodes its Image.
func (t *Transform) apply(dst []float32, ex Example, r *rand.Rand, sc *scratch) error {
	n := t.Size * t.Size
	if len(dst) < 3*n {
		return fmt.Errorf("transform image: destination holds %d floats, need %d", len(dst), 3*n)
	}
	if t.Crop == CropPadded {
		return t.applyPadded(dst, ex, r, sc)
	}
	var w, h int
	if ex.Pixels != nil {
		w, h = ex.Pixels.Bounds().Dx(), ex.Pixels.Bounds().Dy()
	} else {
		var err error
		if w, h, err = sc.dec.size(ex.Image); err != nil {
			return err
		}
	}
	if w <= 0 || h <= 0 {
		return fmt.Errorf("decode image: empty %dx%d image", w, h)
	}
	if int64(w)*int64(h) > maxPixels {
		return fmt.Errorf("decode image: %dx%d is over the %d-megapixel limit", w, h, maxPixels>>20)
	}
	x0, y0, cw, ch := t.cropBox(w, h, r)
	flip := t.Train && r.IntN(2) == 1
	img := ex.Pixels
	if img == nil {
		var err error
		if img, err = sc.dec.decode(ex.Image, math.Min(cw, ch), t.Size); err != nil {
			return err
		}
	}
	// The decoder may have scaled the image down; map the crop onto it.
	b := img.Bounds()
	if b.Dx() != w || b.Dy() != h {
		fx, fy := float64(b.Dx())/float64(w), float64(b.Dy())/float64(h)
		x0, cw, y0, ch = x0*fx, cw*fx, y0*fy, ch*fy
		w, h = b.Dx(), b.Dy()
	}
	for c := range sc.planes {
		if cap(sc.planes[c]) < n {
			sc.planes[c] = make([]float32, n)
		}
		sc.planes[c] = sc.planes[c][:n]
	}
	origin := b.Min == image.Point{}
	switch m := img.(type) {
	case *image.YCbCr:
		if !origin {
			break
		}
		fx, fy := jpegturbo.SubsampleFactors(m.SubsampleRatio)
		t.resample(sc, 0, m.Y, m.YStride, w, h, x0, y0, cw, ch, 1, 1)
		cwid, chei := (w+fx-1)/fx, (h+fy-1)/fy
		t.resample(sc, 1, m.Cb, m.CStride, cwid, chei, x0, y0, cw, ch, fx, fy)
		t.resample(sc, 2, m.Cr, m.CStride, cwid, chei, x0, y0, cw, ch, fx, fy)
		t.store(dst, sc, flip, true)
		return nil
	case *datasets.PlanarRGB:
		for c := range 3 {
			t.resample(sc, c, m.Plane(c), w, w, h, x0, y0, cw, ch, 1, 1)
		}
		t.store(dst, sc, flip, false)
		return nil
	case *image.Gray:
		if !origin {
			break
		}
		t.resample(sc, 0, m.Pix, m.Stride, w, h, x0, y0, cw, ch, 1, 1)
		copy(sc.planes[1], sc.planes[0])
		copy(sc.planes[2], sc.planes[0])
		t.store(dst, sc, flip, false)
		return nil
	}
	rgb := t.planesOf(img, sc)
	for c := range rgb {
		t.resample(sc, c, rgb[c], w, w, h, x0, y0, cw, ch, 1, 1)
	}
	t.store(dst, sc, flip, false)
	return nil
}

// splitRGB copies the R, G and B channels of w×h 4-byte pixels starting at
// pix[off] into three planes.
func splitRGB(rgb [3][]uint8, pix []uint8, stride, w, h, off int) {
	for y := range h {
		row := pix[off+y*stride : off+y*stride+4*w]
		r, g, b := rgb[0][y*w:(y+1)*w], rgb[1][y*w:(y+1)*w], rgb[2][y*w:(y+1)*w]
		for x := range w {
			r[x], g[x], b[x] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
}

// cropBox picks the source rectangle (in luma pixels, fractional) to resample.
func (t *Transform) cropBox(w, h int, r *rand.Rand) (x0, y0, cw, ch float64) {
	W, H := float64(w), float64(h)
	if t.Train {
		area := W * H
		lr0, lr1 := math.Log(t.Ratio[0]), math.Log(t.Ratio[1])
		for range 10 {
			target := area * (t.Scale[0] + r.Float64()*(t.Scale[1]-t.Scale[0]))
			ar := math.Exp(lr0 + r.Float64()*(lr1-lr0))
			cw := math.Round(math.Sqrt(target * ar))
			ch := math.Round(math.Sqrt(target / ar))
			if cw > 0 && ch > 0 && cw <= W && ch <= H {
				x0 := float64(r.IntN(int(W-cw) + 1))
				y0 := float64(r.IntN(int(H-ch) + 1))
				return x0, y0, cw, ch
			}
		}
		// Fall back to a center crop at the nearest allowed ratio.
		ar := W / H
		cw, ch := W, H
		if ar < t.Ratio[0] {
			ch = math.Round(W / t.Ratio[0])
		} else if ar > t.Ratio[1] {
			cw = math.Round(H * t.Ratio[1])
		}
		return (W - cw) / 2, (H - ch) / 2, cw, ch
	}
	side := math.Min(W, H) * t.CropFraction
	return (W - side) / 2, (H - side) / 2, side, side
}

// filter is a separable resampling kernel for one axis: output o reads
// source taps start[o]..start[o]+len-1 with weights w[off[o]:off[o+1]].
type filter struct {
	start, off []int
	w          []float32
}

// build fills f for out outputs covering source [x0, x0+span) of an axis of
// n pixels whose samples sit every factor luma pixels.
func (f *filter) build(out int, x0, span float64, n, factor int) {
	f.start, f.off, f.w = f.start[:0], f.off[:0], f.w[:0]
	scale := span / float64(out) / float64(factor) // source samples per output
	support := math.Max(scale, 1)
	for o := 0; o < out; o++ {
		c := (x0+(float64(o)+0.5)*span/float64(out))/float64(factor) - 0.5
		lo := int(math.Floor(c - support + 1))
		hi := int(math.Ceil(c + support - 1))
		if lo < 0 {
			lo = 0
		}
		if hi > n-1 {
			hi = n - 1
		}
		if hi < lo {
			hi = lo
		}
		f.start = append(f.start, lo)
		f.off = append(f.off, len(f.w))
		var sum float32
		for i := lo; i <= hi; i++ {
			wt := float32(math.Max(0, 1-math.Abs(float64(i)-c)/support))
			f.w = append(f.w, wt)
			sum += wt
		}
		if sum == 0 {
			f.w[len(f.w)-1] = 1
			sum = 1
		}
		for k := f.off[o]; k < len(f.w); k++ {
			f.w[k] /= sum
		}
	}
	f.off = append(f.off, len(f.w))
}

// resample writes plane c of sc from a uint8 plane of w×h samples.
func (t *Transform) resample(sc *scratch, c int, pix []uint8, stride, w, h int, x0, y0, cw, ch float64, fx, fy int) {
	S := t.Size
	sc.wx.build(S, x0, cw, w, fx)
	sc.wy.build(S, y0, ch, h, fy)
	rowLo := sc.wy.start[0]
	rowHi := sc.wy.start[S-1] + (sc.wy.off[S] - sc.wy.off[S-1])
	rows := rowHi - rowLo
	if cap(sc.tmp) < rows*S {
		sc.tmp = make([]float32, rows*S)
	}
	tmp := sc.tmp[:rows*S]
	for y := rowLo; y < rowHi; y++ {
		src := pix[y*stride : y*stride+w]
		dst := tmp[(y-rowLo)*S : (y-rowLo+1)*S]
		for o := 0; o < S; o++ {
			ws := sc.wx.w[sc.wx.off[o]:sc.wx.off[o+1]]
			s := src[sc.wx.start[o]:]
			var acc float32
			for k, wt := range ws {
				acc += wt * float32(s[k])
			}
			dst[o] = acc
		}
	}
	out := sc.planes[c]
	for o := 0; o < S; o++ {
		ws := sc.wy.w[sc.wy.off[o]:sc.wy.off[o+1]]
		base := sc.wy.start[o] - rowLo
		row := out[o*S : (o+1)*S]
		for x := range row {
			row[x] = 0
		}
		for k, wt := range ws {
			src := tmp[(base+k)*S : (base+k+1)*S]
			for x, v := range src {
				row[x] += wt * v
			}
		}
	}
}

// store converts the resampled planes to RGB (from YCbCr when ycc), flips,
// scales to [0,1] and normalizes into dst (CHW).
func (t *Transform) store(dst []float32, sc *scratch, flip, ycc bool) {
	S := t.Size
	n := S * S
	var scale, bias [3]float32
	for c := 0; c < 3; c++ {
		scale[c] = 1 / (255 * t.Std[c])
		bias[c] = -t.Mean[c] / t.Std[c]
	}
	p0, p1, p2 := sc.planes[0], sc.planes[1], sc.planes[2]
	for y := 0; y < S; y++ {
		for x := 0; x < S; x++ {
			si := y*S + x
			di := si
			if flip {
				di = y*S + (S - 1 - x)
			}
			r, g, b := p0[si], p1[si], p2[si]
			if ycc {
				yy, cb, cr := r, g-128, b-128
				r = yy + 1.402*cr
				g = yy - 0.344136*cb - 0.714136*cr
				b = yy + 1.772*cb
			}
			dst[di] = clamp255(r)*scale[0] + bias[0]
			dst[n+di] = clamp255(g)*scale[1] + bias[1]
			dst[2*n+di] = clamp255(b)*scale[2] + bias[2]
		}
	}
}

func clamp255(v float32) float32 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return v
}
