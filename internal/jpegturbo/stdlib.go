package jpegturbo

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
)

// IsJPEG reports whether data starts with a JPEG start-of-image marker.
func IsJPEG(data []byte) bool { return len(data) >= 2 && data[0] == 0xff && data[1] == 0xd8 }

// goSize reads the dimensions with image/jpeg.
func goSize(data []byte) (w, h int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decode JPEG header: %v", r)
		}
	}()
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, 0, fmt.Errorf("decode JPEG header: %w", err)
	}
	return cfg.Width, cfg.Height, nil
}

// goDecode decodes at full size with image/jpeg. Damaged data is an error,
// never a panic.
func goDecode(data []byte) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decode JPEG: %v", r)
		}
	}()
	img, err = jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode JPEG: %w", err)
	}
	return img, nil
}

// goEncode encodes a baseline JPEG with image/jpeg (4:2:0 for color).
func goEncode(img image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(32 << 10)
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("encode JPEG: %w", err)
	}
	return buf.Bytes(), nil
}
