//go:build !cgo || !libjpeg

package ingest

import (
	"bytes"
	"image"
	"image/jpeg"
)

// JPEGCodec names the JPEG codec this build uses: Go's image/jpeg here;
// build with -tags libjpeg (and Debian's libturbojpeg0-dev) for
// libjpeg-turbo.
const JPEGCodec = "go"

// jpegDecode decodes a JPEG at full size; minSide is a hint the Go codec
// cannot use.
func jpegDecode(data []byte, minSide int) (image.Image, error) {
	return jpeg.Decode(bytes.NewReader(data))
}

// jpegEncode encodes img as a baseline JPEG.
func jpegEncode(img image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(32 << 10)
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
