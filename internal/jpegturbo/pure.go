//go:build !(libjpeg && cgo)

package jpegturbo

import "image"

// Codec names the JPEG codec of this build. Build with -tags libjpeg (and
// Debian's libturbojpeg0-dev) for libjpeg-turbo.
const Codec = "image/jpeg"

// Decoder decodes JPEGs. This build uses image/jpeg, at full size.
type Decoder struct{}

// Size returns the dimensions from the JPEG header.
func (d *Decoder) Size(data []byte) (w, h int, err error) { return goSize(data) }

// Decode decodes data; image/jpeg cannot scale, so s is ignored and the
// image comes back at full size.
func (d *Decoder) Decode(data []byte, s Scale) (image.Image, error) { return goDecode(data) }

// Close does nothing in this build.
func (d *Decoder) Close() {}

// Encoder encodes JPEGs; this build uses image/jpeg.
type Encoder struct{}

// Encode encodes img as a baseline JPEG of the given quality (1..100).
func (e *Encoder) Encode(img image.Image, quality int) ([]byte, error) { return goEncode(img, quality) }

// Close does nothing in this build.
func (e *Encoder) Close() {}
