package jpegturbo

import "image"

// Scale is a DCT scaling factor of N/8, N in 1..8: the sizes libjpeg-turbo
// decodes to without resampling.
type Scale int

// Full decodes at the stored size.
const Full Scale = 8

// ScaleFor returns the smallest scale at which a side of side source
// pixels still spans at least want pixels (Full when none smaller does).
func ScaleFor(side float64, want int) Scale {
	for n := Scale(1); n < Full; n++ {
		if side*float64(n)/8 >= float64(want) {
			return n
		}
	}
	return Full
}

// Of returns the number of pixels n source pixels decode to at s, as
// libjpeg-turbo rounds it (up).
func (s Scale) Of(n int) int {
	if s <= 0 || s >= Full {
		return n
	}
	return (n*int(s) + 7) / 8
}

// SubsampleFactors returns how many luma pixels one chroma sample of a
// Y'CbCr image spans across (fx) and down (fy).
func SubsampleFactors(r image.YCbCrSubsampleRatio) (fx, fy int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}
