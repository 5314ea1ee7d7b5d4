// Package jpegturbo is the one binding of libjpeg-turbo in weaksup: a
// reusable JPEG decoder that decodes straight to Y'CbCr planes, scaled down
// in the DCT when a caller needs fewer pixels, and an encoder.
//
// Built with -tags libjpeg (and cgo, linking Debian's libturbojpeg0-dev),
// both use libjpeg-turbo; without the tag they fall back to Go's
// image/jpeg, which cannot scale and decodes at full size. Codec says which
// one a binary has. Either build also hands to image/jpeg what
// libjpeg-turbo cannot write as planes: CMYK and YCCK JPEGs, RGB-coded
// JPEGs and sampling layouts other than 4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1
// and gray.
//
// # Scaling
//
// libjpeg-turbo decodes at N/8 of the size for N in 1..8. ScaleFor picks
// the smallest N whose result still covers what the caller needs: a side
// of side source pixels must keep at least want pixels. Ingest asks for
// the image's shorter side to keep the stored size; the training loader
// asks for its crop to keep the output size. Decoding fewer pixels is most
// of what makes the libjpeg build several times faster.
//
// # Memory and concurrency
//
// A Decoder and an Encoder are for one goroutine at a time; keep one per
// worker (or in a sync.Pool). An image returned by Decoder.Decode lives in
// the decoder's buffer and is valid until the next Decode or Close; copy
// what must outlive it. Encoder.Encode returns a new slice. Close frees
// the buffers (and the Encoder's libjpeg-turbo handle) and is idempotent;
// the zero value of both types is ready to use.
//
// # Determinism
//
// What a JPEG decodes to depends on its bytes and the scale alone, never
// on what the same Decoder decoded before: each Size and Decode call runs
// a libjpeg-turbo decompressor of its own, since one kept across JPEGs
// carries their state over (see Decoder). The Encoder keeps its
// compressor, which libjpeg-turbo resets in full for every image.
package jpegturbo
