package loader

import (
	"fmt"
	"math"
)

// ChannelStats returns the per-channel mean and standard deviation, on
// [0,1] pixel values, of the first limit images of src (all of them when
// limit ≤ 0): the normalization of a Transform for a dataset whose
// statistics are not published, such as a generated one.
func ChannelStats(src Source, limit int) (mean, std [3]float32, err error) {
	n := src.Len()
	if limit > 0 {
		n = min(n, limit)
	}
	if n == 0 {
		return mean, std, fmt.Errorf("compute channel statistics: no images")
	}
	var sum, sq [3]float64
	var count float64
	sc := &scratch{}
	defer sc.dec.close()
	var t Transform
	var buf []byte
	for i := range n {
		ex, err := src.Example(i, buf)
		if err != nil {
			return mean, std, fmt.Errorf("compute channel statistics: %w", err)
		}
		img := ex.Pixels
		if img == nil {
			buf = ex.Image
			w, _, err := sc.dec.size(ex.Image)
			if err == nil {
				img, err = sc.dec.decode(ex.Image, float64(w), w)
			}
			if err != nil {
				return mean, std, fmt.Errorf("compute channel statistics: %s: %w", ex.Key, err)
			}
		}
		planes := t.planesOf(img, sc)
		for c, p := range planes {
			for _, v := range p {
				f := float64(v) / 255
				sum[c] += f
				sq[c] += f * f
			}
		}
		count += float64(len(planes[0]))
	}
	for c := range 3 {
		m := sum[c] / count
		mean[c] = float32(m)
		std[c] = float32(math.Sqrt(math.Max(sq[c]/count-m*m, 1e-12)))
	}
	return mean, std, nil
}
