//go:build libjpeg && cgo

package jpegturbo

/*
#cgo LDFLAGS: -lturbojpeg
#include <stdlib.h>
#include <turbojpeg.h>

// The plane pointers are separate arguments so that no Go memory that
// crosses into C holds Go pointers.
static int wsup_decode_planes(tjhandle h, const unsigned char *jpeg, unsigned long n,
		unsigned char *y, unsigned char *u, unsigned char *v,
		int width, int ystride, int cstride, int height, int flags) {
	unsigned char *planes[3] = {y, u, v};
	int strides[3] = {ystride, cstride, cstride};
	return tjDecompressToYUVPlanes(h, jpeg, n, planes, width, strides, height, flags);
}

static int wsup_encode_planes(tjhandle h, const unsigned char *y, const unsigned char *u,
		const unsigned char *v, int width, int ystride, int ustride, int vstride, int height,
		int subsamp, unsigned char *out, unsigned long *outSize, int quality, int flags) {
	const unsigned char *planes[3] = {y, u, v};
	int strides[3] = {ystride, ustride, vstride};
	unsigned char *buf = out;
	return tjCompressFromYUVPlanes(h, planes, width, strides, height, subsamp,
		&buf, outSize, quality, flags | TJFLAG_NOREALLOC);
}

static int wsup_encode_rgba(tjhandle h, const unsigned char *pix, int width, int stride, int height,
		unsigned char *out, unsigned long *outSize, int quality, int flags) {
	unsigned char *buf = out;
	return tjCompress2(h, pix, width, stride, height, TJPF_RGBA, &buf, outSize,
		TJSAMP_420, quality, flags | TJFLAG_NOREALLOC);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"
)

// Codec names the JPEG codec of this build.
const Codec = "libjpeg-turbo"

// decodeFlags stop at the first warning (damaged data is an error, and
// decoding it to the end is wasted work) and refuse progressive JPEGs of
// more than 500 scans, which cost minutes to decode.
const decodeFlags = C.TJFLAG_STOPONWARNING | C.TJFLAG_LIMITSCANS

// Decoder decodes JPEGs with libjpeg-turbo into Y'CbCr (or gray) planes in
// a buffer it reuses. The zero value is ready; not safe for concurrent use.
//
// Each call starts a libjpeg-turbo decompressor of its own and frees it
// before it returns, so that what a JPEG decodes to depends on its bytes
// alone. A decompressor kept from one JPEG to the next carries state over:
// after a libjpeg error inside a header marker (a JPEG cut inside its
// Huffman tables or SOS segment, one wider than 65,500 pixels),
// libjpeg-turbo 2.1's tjDecompressHeader3 returns without resetting it, and
// every later header read on it fails, so every later JPEG went to
// image/jpeg at full size; and the Huffman and quantization tables of one
// JPEG stay loaded for the next, which one without tables of its own
// (Motion-JPEG frames) is then decoded with. Starting and freeing a
// decompressor costs well under a microsecond.
type Decoder struct {
	buf []byte
}

// decompressor starts a libjpeg-turbo decompressor; the caller frees it
// with tjDestroy.
func decompressor() (C.tjhandle, error) {
	h := C.tjInitDecompress()
	if h == nil {
		return nil, errors.New("start libjpeg-turbo decompressor: " + C.GoString(C.tjGetErrorStr2(nil)))
	}
	return h, nil
}

// header reads the JPEG header with decompressor hd; ok is false when
// libjpeg-turbo cannot read it, or finds no image in it (a datastream of
// tables only, or one cut before its frame header, reads as one of tables
// only).
func header(hd C.tjhandle, data []byte) (w, h int, subsamp, colorspace C.int, ok bool) {
	var cw, ch C.int
	if C.tjDecompressHeader3(hd, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), &cw, &ch, &subsamp, &colorspace) != 0 ||
		cw < 1 || ch < 1 {
		return 0, 0, 0, 0, false
	}
	return int(cw), int(ch), subsamp, colorspace, true
}

// Size returns the dimensions from the JPEG header.
func (d *Decoder) Size(data []byte) (w, h int, err error) {
	if len(data) == 0 {
		return 0, 0, errors.New("decode JPEG: no data")
	}
	hd, err := decompressor()
	if err != nil {
		return 0, 0, err
	}
	defer C.tjDestroy(hd)
	w, h, _, _, ok := header(hd, data)
	if !ok {
		return goSize(data) // a header libjpeg-turbo refuses may be one Go reads
	}
	return w, h, nil
}

// Decode decodes data at scale s (ScaleFor picks one). The image is a
// *image.YCbCr or *image.Gray in the decoder's buffer, valid until the
// next Decode or Close. A JPEG that libjpeg-turbo cannot write as planes
// is decoded by image/jpeg at full size into memory of its own.
func (d *Decoder) Decode(data []byte, s Scale) (image.Image, error) {
	if len(data) == 0 {
		return nil, errors.New("decode JPEG: no data")
	}
	hd, err := decompressor()
	if err != nil {
		return nil, err
	}
	defer C.tjDestroy(hd)
	w, h, subsamp, cs, ok := header(hd, data)
	ratio, gray, known := sampling(subsamp)
	if !ok || !known || (cs != C.TJCS_YCbCr && cs != C.TJCS_GRAY) {
		return goDecode(data)
	}
	sw, sh := s.Of(w), s.Of(h)
	// Planes as libjpeg-turbo lays them out: each padded to whole
	// subsampling units, which it writes in full.
	yw, yh := int(C.tjPlaneWidth(0, C.int(sw), subsamp)), int(C.tjPlaneHeight(0, C.int(sh), subsamp))
	cw, ch := 0, 0
	if !gray {
		cw, ch = int(C.tjPlaneWidth(1, C.int(sw), subsamp)), int(C.tjPlaneHeight(1, C.int(sh), subsamp))
		if fx, fy := SubsampleFactors(ratio); cw*fx < sw || ch*fy < sh {
			return goDecode(data) // geometry Go's YCbCr cannot index; never seen
		}
	}
	need := yw*yh + 2*cw*ch
	if cap(d.buf) < need {
		d.buf = make([]byte, need)
	}
	mem := d.buf[:need]
	y := (*C.uchar)(unsafe.Pointer(&mem[0]))
	var u, v *C.uchar
	if !gray {
		u = (*C.uchar)(unsafe.Pointer(&mem[yw*yh]))
		v = (*C.uchar)(unsafe.Pointer(&mem[yw*yh+cw*ch]))
	}
	if C.wsup_decode_planes(hd, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), y, u, v,
		C.int(sw), C.int(yw), C.int(cw), C.int(sh), decodeFlags) != 0 {
		return nil, fmt.Errorf("decode JPEG: libjpeg-turbo: %s", C.GoString(C.tjGetErrorStr2(hd)))
	}
	r := image.Rect(0, 0, sw, sh)
	if gray {
		return &image.Gray{Pix: mem[:yw*yh], Stride: yw, Rect: r}, nil
	}
	return &image.YCbCr{Y: mem[:yw*yh], Cb: mem[yw*yh : yw*yh+cw*ch], Cr: mem[yw*yh+cw*ch : need],
		YStride: yw, CStride: cw, SubsampleRatio: ratio, Rect: r}, nil
}

// Close frees the buffer. It is idempotent.
func (d *Decoder) Close() { d.buf = nil }

// sampling maps libjpeg-turbo's subsampling to Go's; known is false for
// layouts Go's image.YCbCr has no ratio for.
func sampling(s C.int) (ratio image.YCbCrSubsampleRatio, gray, known bool) {
	switch s {
	case C.TJSAMP_444:
		return image.YCbCrSubsampleRatio444, false, true
	case C.TJSAMP_422:
		return image.YCbCrSubsampleRatio422, false, true
	case C.TJSAMP_420:
		return image.YCbCrSubsampleRatio420, false, true
	case C.TJSAMP_440:
		return image.YCbCrSubsampleRatio440, false, true
	case C.TJSAMP_411:
		return image.YCbCrSubsampleRatio411, false, true
	case C.TJSAMP_GRAY:
		return 0, true, true
	}
	return 0, false, false
}

// tjSampling is the inverse of sampling for color images.
func tjSampling(r image.YCbCrSubsampleRatio) (C.int, bool) {
	switch r {
	case image.YCbCrSubsampleRatio444:
		return C.TJSAMP_444, true
	case image.YCbCrSubsampleRatio422:
		return C.TJSAMP_422, true
	case image.YCbCrSubsampleRatio420:
		return C.TJSAMP_420, true
	case image.YCbCrSubsampleRatio440:
		return C.TJSAMP_440, true
	case image.YCbCrSubsampleRatio411:
		return C.TJSAMP_411, true
	}
	return 0, false
}

// Encoder encodes JPEGs with libjpeg-turbo, reusing its handle and output
// buffer. The zero value is ready; not safe for concurrent use.
type Encoder struct {
	h   C.tjhandle
	out []byte
	pad [3][]byte // planes copied out when an image's planes lack the padding libjpeg-turbo reads
}

// Encode encodes img at quality (1..100) and returns a new slice. Y'CbCr
// images keep their subsampling (4:1:0 goes through image/jpeg), gray
// images stay gray, RGBA is coded 4:2:0; other image types go through
// image/jpeg.
func (e *Encoder) Encode(img image.Image, quality int) ([]byte, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 || b.Min != (image.Point{}) {
		return goEncode(img, quality)
	}
	if e.h == nil {
		if e.h = C.tjInitCompress(); e.h == nil {
			return nil, errors.New("start libjpeg-turbo compressor: " + C.GoString(C.tjGetErrorStr2(nil)))
		}
	}
	var (
		ret  C.int
		size C.ulong
	)
	switch m := img.(type) {
	case *image.YCbCr:
		ss, ok := tjSampling(m.SubsampleRatio)
		if !ok {
			return goEncode(img, quality)
		}
		yp, ys, ok0 := e.plane(0, m.Y, m.YStride, w, h, ss)
		up, us, ok1 := e.plane(1, m.Cb, m.CStride, w, h, ss)
		vp, vs, ok2 := e.plane(2, m.Cr, m.CStride, w, h, ss)
		if !ok0 || !ok1 || !ok2 {
			return goEncode(img, quality)
		}
		e.grow(w, h, ss)
		size = C.ulong(len(e.out))
		ret = C.wsup_encode_planes(e.h, yp, up, vp, C.int(w), C.int(ys), C.int(us), C.int(vs), C.int(h), ss,
			(*C.uchar)(unsafe.Pointer(&e.out[0])), &size, C.int(quality), 0)
	case *image.Gray:
		yp, ys, ok := e.plane(0, m.Pix, m.Stride, w, h, C.TJSAMP_GRAY)
		if !ok {
			return goEncode(img, quality)
		}
		e.grow(w, h, C.TJSAMP_GRAY)
		size = C.ulong(len(e.out))
		ret = C.wsup_encode_planes(e.h, yp, nil, nil, C.int(w), C.int(ys), 0, 0, C.int(h), C.TJSAMP_GRAY,
			(*C.uchar)(unsafe.Pointer(&e.out[0])), &size, C.int(quality), 0)
	case *image.RGBA:
		if len(m.Pix) < (h-1)*m.Stride+4*w {
			return goEncode(img, quality)
		}
		e.grow(w, h, C.TJSAMP_420)
		size = C.ulong(len(e.out))
		ret = C.wsup_encode_rgba(e.h, (*C.uchar)(unsafe.Pointer(&m.Pix[0])), C.int(w), C.int(m.Stride), C.int(h),
			(*C.uchar)(unsafe.Pointer(&e.out[0])), &size, C.int(quality), 0)
	default:
		return goEncode(img, quality)
	}
	if ret != 0 {
		return nil, fmt.Errorf("encode JPEG: libjpeg-turbo: %s", C.GoString(C.tjGetErrorStr2(e.h)))
	}
	return append([]byte(nil), e.out[:size]...), nil
}

// grow makes the output buffer hold the worst case for a w×h image.
func (e *Encoder) grow(w, h int, ss C.int) {
	if need := int(C.tjBufSize(C.int(w), C.int(h), ss)); len(e.out) < need {
		e.out = make([]byte, need)
	}
}

// plane returns plane c of a w×h image for libjpeg-turbo, which reads each
// plane padded to whole subsampling units (an odd-sized 4:2:0 image has an
// extra luma row and column). A plane whose slice ends before that padding
// is copied into the encoder's scratch with its last row and column
// repeated, so no read goes past Go memory. ok is false for a plane too
// short to hold even one row.
func (e *Encoder) plane(c int, pix []byte, stride, w, h int, ss C.int) (p *C.uchar, pstride int, ok bool) {
	comp := C.int(min(c, 1))
	pw, ph := int(C.tjPlaneWidth(comp, C.int(w), ss)), int(C.tjPlaneHeight(comp, C.int(h), ss))
	if stride >= pw && len(pix) >= (ph-1)*stride+pw {
		return (*C.uchar)(unsafe.Pointer(&pix[0])), stride, true
	}
	vw := min(pw, stride) // Go's planes lack only the padding
	vh := 0
	if vw > 0 && len(pix) >= vw {
		vh = min(ph, (len(pix)-vw)/stride+1)
	}
	if vh == 0 {
		return nil, 0, false
	}
	if cap(e.pad[c]) < pw*ph {
		e.pad[c] = make([]byte, pw*ph)
	}
	dst := e.pad[c][:pw*ph]
	for y := range ph {
		row := dst[y*pw : (y+1)*pw]
		copy(row, pix[min(y, vh-1)*stride:][:vw])
		for x := vw; x < pw; x++ {
			row[x] = row[vw-1]
		}
	}
	return (*C.uchar)(unsafe.Pointer(&dst[0])), pw, true
}

// Close frees the libjpeg-turbo handle and the buffers. It is idempotent.
func (e *Encoder) Close() {
	if e.h != nil {
		C.tjDestroy(e.h)
		e.h = nil
	}
	e.out = nil
	e.pad = [3][]byte{}
}
