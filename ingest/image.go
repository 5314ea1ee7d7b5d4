package ingest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"

	"golang.org/x/image/webp"

	"weaksup/internal/jpegturbo"
	"weaksup/phash"
	"weaksup/thumbnail"
)

// ImageConfig sets how downloaded images are checked and normalized.
type ImageConfig struct {
	Size      int   // shorter side after resizing; 0 keeps the original size
	Quality   int   // JPEG quality of the stored image, 1..100
	MaxPixels int64 // width*height above this is refused before decoding (decompression bombs)
	MinSide   int   // a shorter side below this is refused
	MaxAspect int   // a longer side over MaxAspect times the shorter is refused (and never resized into a memory bomb); 0 = no limit
}

// Image outcomes.
const (
	OutcomeNotImage      = "not_image"       // the bytes are no JPEG, PNG, GIF or WebP
	OutcomeDecodeError   = "decode_error"    // the header or pixels do not decode
	OutcomeTooManyPixels = "too_many_pixels" // over ImageConfig.MaxPixels
	OutcomeTooSmall      = "too_small"       // under ImageConfig.MinSide
	OutcomeBadAspect     = "bad_aspect"      // over ImageConfig.MaxAspect
	OutcomeHashError     = "hash_error"
)

// Image is a normalized image ready for the store.
type Image struct {
	JPEG          []byte
	Width, Height int // of JPEG
	SHA256        [32]byte
	PHash         uint64 // phash.Hash of the normalized image, before JPEG encoding
	Thumbnail     []byte // thumbnail.Make of the normalized image, for dedup's verification
	Format        string // of the source: jpeg, png, gif or webp
}

// Sniff names the image format of data from its first bytes: "jpeg",
// "png", "gif", "webp", or "" for anything else.
func Sniff(data []byte) string {
	switch {
	case len(data) >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff:
		return "jpeg"
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "gif"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "webp"
	}
	return ""
}

// Normalize checks and normalizes downloaded image bytes with one decode:
// header checks (pixel limit, minimum side), decode (GIF: first frame),
// resize of the shorter side to cfg.Size, EXIF orientation, perceptual
// hash, thumbnail and JPEG encoding. A failure is an outcome, never an
// error: the bytes come from strangers.
func Normalize(data []byte, cfg ImageConfig) (Image, string) {
	c := getCodec()
	defer putCodec(c)
	return c.normalize(data, cfg)
}

// normalize is Normalize with codec c. What it returns depends on data and
// cfg alone, not on what c normalized before.
func (c *codec) normalize(data []byte, cfg ImageConfig) (Image, string) {
	img := Image{SHA256: sha256.Sum256(data), Format: Sniff(data)}
	if img.Format == "" {
		return img, OutcomeNotImage
	}
	hdr, err := decodeConfig(img.Format, data)
	if err != nil {
		return img, OutcomeDecodeError
	}
	if int64(hdr.Width)*int64(hdr.Height) > cfg.MaxPixels {
		return img, OutcomeTooManyPixels
	}
	if min(hdr.Width, hdr.Height) < max(cfg.MinSide, 1) {
		return img, OutcomeTooSmall
	}
	if cfg.MaxAspect > 0 && max(hdr.Width, hdr.Height) > cfg.MaxAspect*min(hdr.Width, hdr.Height) {
		return img, OutcomeBadAspect
	}
	// The decoded image may live in the codec's buffer: everything below
	// finishes with it before the codec is handed back.
	src, err := c.decode(img.Format, data, cfg.Size)
	if err != nil {
		return img, OutcomeDecodeError
	}
	// A JPEG may decode scaled down (DCT scaling) but never larger.
	if b := src.Bounds(); b.Empty() || b.Dx() > hdr.Width || b.Dy() > hdr.Height ||
		(img.Format != "jpeg" && (b.Dx() != hdr.Width || b.Dy() != hdr.Height)) {
		return img, OutcomeDecodeError
	}
	out := resizeShorter(src, cfg.Size)
	if img.Format == "jpeg" {
		out = orient(out, exifOrientation(data))
	}
	if img.PHash, err = phash.Hash(out); err != nil {
		return img, OutcomeHashError
	}
	img.Thumbnail = thumbnail.Make(out)
	if img.JPEG, err = c.enc.Encode(out, cfg.Quality); err != nil {
		return img, OutcomeDecodeError
	}
	img.Width, img.Height = out.Bounds().Dx(), out.Bounds().Dy()
	return img, ""
}

func decodeConfig(format string, data []byte) (image.Config, error) {
	r := bytes.NewReader(data)
	switch format {
	case "jpeg":
		return jpeg.DecodeConfig(r)
	case "png":
		return png.DecodeConfig(r)
	case "gif":
		return gif.DecodeConfig(r)
	case "webp":
		return webp.DecodeConfig(r)
	}
	return image.Config{}, fmt.Errorf("decode %s header: unsupported format", format)
}

// codec is one Normalize call's JPEG decoder and encoder. They keep
// libjpeg-turbo handles and buffers, so a few are kept for reuse.
type codec struct {
	dec jpegturbo.Decoder
	enc jpegturbo.Encoder
}

// codecs holds idle codecs; one that does not fit is closed, so none is
// left for the garbage collector with C memory attached.
var codecs = make(chan *codec, 2*runtime.GOMAXPROCS(0))

func getCodec() *codec {
	select {
	case c := <-codecs:
		return c
	default:
		return new(codec)
	}
}

func putCodec(c *codec) {
	select {
	case codecs <- c:
	default:
		c.dec.Close()
		c.enc.Close()
	}
}

// decode decodes the whole image; a JPEG is decoded DCT-scaled to the
// smallest size whose shorter side still covers minSide (where the codec
// can scale).
func (c *codec) decode(format string, data []byte, minSide int) (image.Image, error) {
	r := bytes.NewReader(data)
	switch format {
	case "jpeg":
		w, h, err := c.dec.Size(data)
		if err != nil {
			return nil, err
		}
		s := jpegturbo.Full
		if minSide > 0 {
			s = jpegturbo.ScaleFor(float64(min(w, h)), minSide)
		}
		return c.dec.Decode(data, s)
	case "png":
		return png.Decode(r)
	case "gif":
		return gif.Decode(r)
	case "webp":
		return webp.Decode(r)
	}
	return nil, fmt.Errorf("decode %s: unsupported format", format)
}
