package demo

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	xdraw "golang.org/x/image/draw"
)

// writeCopy writes the image of a repost (the original's bytes) or of a
// planted near-duplicate (a transformed target val image). Photos are
// drawn elsewhere.
func (rec *record) writeCopy(dir string, seed uint64) error {
	dst := filepath.Join(dir, ImagesDir, rec.id+".jpg")
	switch rec.kind {
	case kindRepost:
		b, err := os.ReadFile(filepath.Join(dir, ImagesDir, rec.source+".jpg"))
		if err != nil {
			return fmt.Errorf("read reposted image: %w", err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return fmt.Errorf("write repost: %w", err)
		}
	case kindDuplicate:
		b, err := os.ReadFile(filepath.Join(dir, rec.source))
		if err != nil {
			return fmt.Errorf("read target image: %w", err)
		}
		out, err := nearDuplicate(b, rec.transform, seeded(seed, rec.key))
		if err != nil {
			return fmt.Errorf("plant duplicate of %s: %w", rec.source, err)
		}
		if err := os.WriteFile(dst, out, 0o644); err != nil {
			return fmt.Errorf("write duplicate: %w", err)
		}
	}
	return nil
}

// nearDuplicate applies the '+'-joined edits of transform to a JPEG and
// re-encodes it.
func nearDuplicate(src []byte, transform string, r *rand.Rand) ([]byte, error) {
	img, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	q := 80 + r.IntN(16)
	for _, t := range strings.Split(transform, "+") {
		switch t {
		case "resize":
			b := img.Bounds()
			f := 0.6 + 0.9*r.Float64() // 0.6x .. 1.5x
			img = resize(img, max(8, int(float64(b.Dx())*f)), max(8, int(float64(b.Dy())*f)))
		case "reencode":
			q = 25 + r.IntN(30)
		case "crop":
			b := img.Bounds()
			frac := func() int { return int(float64(b.Dx()) * (0.01 + 0.04*r.Float64())) }
			rect := image.Rect(b.Min.X+frac(), b.Min.Y+frac(), b.Max.X-frac(), b.Max.Y-frac())
			img = resize(subImage(img, rect), rect.Dx(), rect.Dy())
		case "brighten":
			img = brighten(img, 1.1+0.2*r.Float64())
		case "mirror":
			img = mirror(img)
		default:
			return nil, fmt.Errorf("unknown transform %q", t)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return buf.Bytes(), nil
}

func resize(src image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), xdraw.Src, nil)
	return dst
}

func subImage(img image.Image, r image.Rectangle) image.Image {
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	xdraw.Copy(out, image.Point{}, img, r, xdraw.Src, nil)
	return out
}

func toRGBA(img image.Image) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok {
		return m
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	xdraw.Copy(out, image.Point{}, img, b, xdraw.Src, nil)
	return out
}

func brighten(img image.Image, k float64) *image.RGBA {
	m := toRGBA(img)
	for i := range m.Pix {
		if i%4 == 3 {
			continue
		}
		m.Pix[i] = uint8(min(255, float64(m.Pix[i])*k+0.5))
	}
	return m
}

func mirror(img image.Image) *image.RGBA {
	m := toRGBA(img)
	w := m.Bounds().Dx()
	for y := 0; y < m.Bounds().Dy(); y++ {
		row := m.Pix[y*m.Stride : y*m.Stride+4*w]
		for a, b := 0, w-1; a < b; a, b = a+1, b-1 {
			for c := 0; c < 4; c++ {
				row[4*a+c], row[4*b+c] = row[4*b+c], row[4*a+c]
			}
		}
	}
	return m
}
