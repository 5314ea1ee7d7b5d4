//go:build !(libjpeg && cgo)

package shards

import "image"

// decoder decodes images for one worker. This build uses the standard
// library; build with -tags libjpeg for libjpeg-turbo's faster decoder with
// DCT-domain downscaling.
type decoder struct{}

// DecoderName says which JPEG decoder this build uses.
const DecoderName = "image/jpeg"

// size returns the image dimensions from its header.
func (d *decoder) size(data []byte) (w, h int, err error) { return sizeStd(data) }

// decode decodes data at full size; denom is a hint this decoder ignores.
func (d *decoder) decode(data []byte, denom int) (image.Image, error) { return decodeStd(data) }

func (d *decoder) close() {}
