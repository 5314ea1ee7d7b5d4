//go:build libjpeg && cgo

package shards

/*
#cgo LDFLAGS: -lturbojpeg
#include <stdlib.h>
#include <turbojpeg.h>

static int wsup_decode_planes(tjhandle h, const unsigned char *buf, unsigned long size,
		unsigned char *y, unsigned char *u, unsigned char *v,
		int width, int ystride, int cstride, int height) {
	unsigned char *planes[3] = {y, u, v};
	int strides[3] = {ystride, cstride, cstride};
	return tjDecompressToYUVPlanes(h, buf, size, planes, width, strides, height, 0);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"
)

// DecoderName says which JPEG decoder this build uses.
const DecoderName = "libjpeg-turbo"

// decoder decodes JPEGs with libjpeg-turbo straight to Y/Cb/Cr planes,
// letting the DCT scale them down by 2, 4 or 8 when the crop allows; other
// formats, and JPEGs it refuses (CMYK), go to the standard library. Planes
// live in C memory owned by the decoder. Not safe for concurrent use.
type decoder struct {
	h              C.tjhandle
	buf            unsafe.Pointer
	capacity       int
	w, h0, subsamp int // header of the last size call
}

func (d *decoder) handle() (C.tjhandle, error) {
	if d.h == nil {
		d.h = C.tjInitDecompress()
		if d.h == nil {
			return nil, errors.New("start libjpeg-turbo decompressor")
		}
	}
	return d.h, nil
}

func (d *decoder) errorString() string { return C.GoString(C.tjGetErrorStr2(d.h)) }

func (d *decoder) size(data []byte) (int, int, error) {
	d.w = 0
	if !isJPEG(data) {
		return sizeStd(data)
	}
	h, err := d.handle()
	if err != nil {
		return 0, 0, err
	}
	var w, ht, ss, cs C.int
	if C.tjDecompressHeader3(h, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), &w, &ht, &ss, &cs) != 0 {
		return 0, 0, fmt.Errorf("decode image header: %s", d.errorString())
	}
	d.w, d.h0, d.subsamp = int(w), int(ht), int(ss)
	return int(w), int(ht), nil
}

func (d *decoder) decode(data []byte, denom int) (image.Image, error) {
	if !isJPEG(data) || d.w == 0 {
		return decodeStd(data)
	}
	var ratio image.YCbCrSubsampleRatio
	gray := false
	switch d.subsamp {
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
		gray = true
	default:
		return decodeStd(data)
	}
	sw := (d.w + denom - 1) / denom
	sh := (d.h0 + denom - 1) / denom
	ss := C.int(d.subsamp)
	yw := int(C.tjPlaneWidth(0, C.int(sw), ss))
	yh := int(C.tjPlaneHeight(0, C.int(sh), ss))
	cw, ch := 0, 0
	if !gray {
		cw = int(C.tjPlaneWidth(1, C.int(sw), ss))
		ch = int(C.tjPlaneHeight(1, C.int(sh), ss))
	}
	need := yw*yh + 2*cw*ch
	if need > d.capacity {
		C.free(d.buf)
		d.buf = C.malloc(C.size_t(need))
		if d.buf == nil {
			d.capacity = 0
			return nil, fmt.Errorf("decode image: cannot allocate %d bytes", need)
		}
		d.capacity = need
	}
	base := (*C.uchar)(d.buf)
	y := base
	u := (*C.uchar)(unsafe.Add(d.buf, yw*yh))
	v := (*C.uchar)(unsafe.Add(d.buf, yw*yh+cw*ch))
	if gray {
		u, v = nil, nil
	}
	if C.wsup_decode_planes(d.h, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), y, u, v,
		C.int(sw), C.int(yw), C.int(cw), C.int(sh)) != 0 {
		msg := d.errorString()
		if C.tjGetErrorCode(d.h) == C.TJERR_FATAL {
			// A JPEG libjpeg-turbo declines to write as planes (CMYK) may
			// still be one the standard library reads; damaged data, which
			// libjpeg-turbo reports as a warning, is not retried.
			if img, err := decodeStd(data); err == nil {
				return img, nil
			}
		}
		return nil, fmt.Errorf("decode image: %s", msg)
	}
	mem := unsafe.Slice((*uint8)(d.buf), need)
	r := image.Rect(0, 0, sw, sh)
	if gray {
		return &image.Gray{Pix: mem[:yw*yh], Stride: yw, Rect: r}, nil
	}
	return &image.YCbCr{Y: mem[:yw*yh], Cb: mem[yw*yh : yw*yh+cw*ch], Cr: mem[yw*yh+cw*ch : need],
		YStride: yw, CStride: cw, SubsampleRatio: ratio, Rect: r}, nil
}

func (d *decoder) close() {
	if d.h != nil {
		C.tjDestroy(d.h)
		d.h = nil
	}
	C.free(d.buf)
	d.buf, d.capacity = nil, 0
}
