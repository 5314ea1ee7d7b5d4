//go:build cgo && libjpeg

package ingest

/*
#cgo LDFLAGS: -lturbojpeg
#include <stdlib.h>
#include <turbojpeg.h>

// The plane pointers are separate arguments so that no Go memory holds Go
// pointers when it crosses into C.
static int decode_planes(tjhandle h, const unsigned char *jpeg, unsigned long n,
		unsigned char *y, unsigned char *u, unsigned char *v,
		int width, int ystride, int cstride, int height, int flags) {
	unsigned char *planes[3] = {y, u, v};
	int strides[3] = {ystride, cstride, cstride};
	return tjDecompressToYUVPlanes(h, jpeg, n, planes, width, strides, height, flags);
}

static int encode_planes(tjhandle h, const unsigned char *y, const unsigned char *u,
		const unsigned char *v, int width, int ystride, int cstride, int height,
		int subsamp, unsigned char *out, unsigned long *outSize, int quality, int flags) {
	const unsigned char *planes[3] = {y, u, v};
	int strides[3] = {ystride, cstride, cstride};
	unsigned char *buf = out;
	return tjCompressFromYUVPlanes(h, planes, width, strides, height, subsamp,
		&buf, outSize, quality, flags | TJFLAG_NOREALLOC);
}
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"sync"
	"unsafe"
)

// JPEGCodec names the JPEG codec this build uses: libjpeg-turbo, with
// Go's image/jpeg for what it cannot take (CMYK, other subsamplings).
const JPEGCodec = "libjpeg-turbo"

var errTurbo = errors.New("libjpeg-turbo cannot take this image")

func turboError(h C.tjhandle) error {
	return fmt.Errorf("libjpeg-turbo: %s", C.GoString(C.tjGetErrorStr2(h)))
}

// jpegDecode decodes a JPEG to its Y'CbCr planes, using libjpeg-turbo's
// DCT scaling to the smallest size whose shorter side is at least minSide
// (full size when minSide <= 0).
func jpegDecode(data []byte, minSide int) (image.Image, error) {
	img, err := turboDecode(data, minSide)
	if errors.Is(err, errTurbo) {
		return jpeg.Decode(bytes.NewReader(data))
	}
	return img, err
}

func turboDecode(data []byte, minSide int) (image.Image, error) {
	if len(data) == 0 {
		return nil, errors.New("empty JPEG")
	}
	h := C.tjInitDecompress()
	if h == nil {
		return nil, errTurbo
	}
	defer C.tjDestroy(h)
	src := (*C.uchar)(unsafe.Pointer(&data[0]))
	var w, ht, subsamp, colorspace C.int
	if C.tjDecompressHeader3(h, src, C.ulong(len(data)), &w, &ht, &subsamp, &colorspace) != 0 {
		return nil, turboError(h)
	}
	var ratio image.YCbCrSubsampleRatio
	switch subsamp {
	case C.TJSAMP_444:
		ratio = image.YCbCrSubsampleRatio444
	case C.TJSAMP_422:
		ratio = image.YCbCrSubsampleRatio422
	case C.TJSAMP_420:
		ratio = image.YCbCrSubsampleRatio420
	case C.TJSAMP_440:
		ratio = image.YCbCrSubsampleRatio440
	case C.TJSAMP_411:
		ratio = image.YCbCrSubsampleRatio411
	case C.TJSAMP_GRAY:
	default:
		return nil, errTurbo
	}
	if colorspace == C.TJCS_CMYK || colorspace == C.TJCS_YCCK {
		return nil, errTurbo
	}
	sw, sh := scaledSize(int(w), int(ht), minSide)
	flags := C.int(C.TJFLAG_STOPONWARNING | C.TJFLAG_LIMITSCANS)
	if subsamp == C.TJSAMP_GRAY {
		g := image.NewGray(image.Rect(0, 0, sw, sh))
		if C.decode_planes(h, src, C.ulong(len(data)), (*C.uchar)(unsafe.Pointer(&g.Pix[0])), nil, nil,
			C.int(sw), C.int(g.Stride), 0, C.int(sh), flags) != 0 {
			return nil, turboError(h)
		}
		return g, nil
	}
	m := image.NewYCbCr(image.Rect(0, 0, sw, sh), ratio)
	if cw, ch := int(C.tjPlaneWidth(1, C.int(sw), subsamp)), int(C.tjPlaneHeight(1, C.int(sh), subsamp)); cw > m.CStride || ch*m.CStride > len(m.Cb) {
		return nil, errTurbo // plane geometry differs from Go's; let Go decode
	}
	if C.decode_planes(h, src, C.ulong(len(data)),
		(*C.uchar)(unsafe.Pointer(&m.Y[0])), (*C.uchar)(unsafe.Pointer(&m.Cb[0])), (*C.uchar)(unsafe.Pointer(&m.Cr[0])),
		C.int(sw), C.int(m.YStride), C.int(m.CStride), C.int(sh), flags) != 0 {
		return nil, turboError(h)
	}
	return m, nil
}

// scaledSize picks the libjpeg-turbo scaling factor num/8 (1 <= num <= 8)
// with the smallest result whose shorter side is still >= minSide.
func scaledSize(w, h, minSide int) (int, int) {
	short := min(w, h)
	for num := 1; num < 8; num++ {
		if minSide > 0 && (short*num+7)/8 >= minSide {
			return (w*num + 7) / 8, (h*num + 7) / 8
		}
	}
	return w, h
}

// jpegEncode encodes img; 4:2:0 Y'CbCr and gray images go through
// libjpeg-turbo, anything else through Go's encoder.
func jpegEncode(img image.Image, quality int) ([]byte, error) {
	var (
		y, u, v          *C.uchar
		ystride, cstride int
		subsamp          C.int
	)
	b := img.Bounds()
	switch m := img.(type) {
	case *image.YCbCr:
		if m.SubsampleRatio != image.YCbCrSubsampleRatio420 || b.Min != (image.Point{}) || len(m.Y) == 0 {
			return goEncode(img, quality)
		}
		y, u, v = (*C.uchar)(unsafe.Pointer(&m.Y[0])), (*C.uchar)(unsafe.Pointer(&m.Cb[0])), (*C.uchar)(unsafe.Pointer(&m.Cr[0]))
		ystride, cstride, subsamp = m.YStride, m.CStride, C.TJSAMP_420
	case *image.Gray:
		if b.Min != (image.Point{}) || len(m.Pix) == 0 {
			return goEncode(img, quality)
		}
		y, ystride, subsamp = (*C.uchar)(unsafe.Pointer(&m.Pix[0])), m.Stride, C.TJSAMP_GRAY
	default:
		return goEncode(img, quality)
	}
	h := C.tjInitCompress()
	if h == nil {
		return goEncode(img, quality)
	}
	defer C.tjDestroy(h)
	need := int(C.tjBufSize(C.int(b.Dx()), C.int(b.Dy()), subsamp))
	scratch := encodeBuffers.Get().(*[]byte)
	defer encodeBuffers.Put(scratch)
	if cap(*scratch) < need {
		*scratch = make([]byte, need)
	}
	out := (*scratch)[:need]
	size := C.ulong(len(out))
	if C.encode_planes(h, y, u, v, C.int(b.Dx()), C.int(ystride), C.int(cstride), C.int(b.Dy()), subsamp,
		(*C.uchar)(unsafe.Pointer(&out[0])), &size, C.int(quality), 0) != 0 {
		return nil, turboError(h)
	}
	return append([]byte(nil), out[:size]...), nil
}

// encodeBuffers holds worst-case sized output buffers for reuse; the
// encoded image is copied out at its real size.
var encodeBuffers = sync.Pool{New: func() any { return new([]byte) }}

func goEncode(img image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
