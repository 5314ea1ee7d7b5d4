package loader

import (
	"bytes"
	"fmt"
	"image"

	"weaksup/internal/jpegturbo"
)

// decoder decodes images for one worker: JPEGs through jpegturbo, scaled
// down in the DCT when the crop still keeps the output size (with -tags
// libjpeg), every other format with image.Decode. Not safe for concurrent
// use; an image it returns is valid until its next decode.
type decoder struct{ jpeg jpegturbo.Decoder }

// size returns the image dimensions from its header.
func (d *decoder) size(data []byte) (w, h int, err error) {
	if jpegturbo.IsJPEG(data) {
		return d.jpeg.Size(data)
	}
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

// decode decodes data so that a span of side source pixels keeps at least
// want pixels.
func (d *decoder) decode(data []byte, side float64, want int) (img image.Image, err error) {
	if jpegturbo.IsJPEG(data) {
		return d.jpeg.Decode(data, jpegturbo.ScaleFor(side, want))
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decode image: %v", r)
		}
	}()
	img, _, err = image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode image: %w", err)
	}
	return img, nil
}

func (d *decoder) close() { d.jpeg.Close() }
