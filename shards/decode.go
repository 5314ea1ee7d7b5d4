package shards

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
)

// decodeStd decodes with the standard library: any registered format.
func decodeStd(data []byte) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decode image: %v", r)
		}
	}()
	if isJPEG(data) {
		img, err = jpeg.Decode(bytes.NewReader(data))
	} else {
		img, _, err = image.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("decode image: %w", err)
	}
	return img, nil
}

// sizeStd reads the image dimensions from its header.
func sizeStd(data []byte) (w, h int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decode image header: %v", r)
		}
	}()
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, 0, fmt.Errorf("decode image header: %w", err)
	}
	return cfg.Width, cfg.Height, nil
}

func isJPEG(data []byte) bool { return len(data) >= 2 && data[0] == 0xff && data[1] == 0xd8 }

// reduction picks the JPEG DCT scaling denominator (1, 2, 4 or 8) that
// keeps at least out decoded pixels across a crop of side source pixels.
func reduction(side float64, out int) int {
	d := 1
	for d < 8 && side/float64(2*d) >= float64(out) {
		d *= 2
	}
	return d
}
