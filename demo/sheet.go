package demo

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"sort"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// sheetImage lays out rows of tiles, each row headed by a label.
func sheetImage(rows [][]image.Image, labels []string, tile int) *image.RGBA {
	const labelW, pad = 130, 2
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	w := labelW + cols*(tile+pad) + pad
	h := len(rows)*(tile+pad) + pad
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{250, 250, 250, 255}), image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{20, 20, 20, 255}), Face: basicfont.Face7x13}
	for i, r := range rows {
		y := pad + i*(tile+pad)
		if i < len(labels) {
			label := labels[i]
			if len(label) > 18 {
				label = label[:18]
			}
			d.Dot = fixed.P(4, y+tile/2+4)
			d.DrawString(label)
		}
		for j, t := range r {
			x := labelW + pad + j*(tile+pad)
			dst := image.Rect(x, y, x+tile, y+tile)
			draw.Draw(img, dst, scaleTo(t, tile), image.Point{}, draw.Src)
		}
	}
	return img
}

// scaleTo resizes by nearest neighbour to a square of side n.
func scaleTo(src image.Image, n int) image.Image {
	b := src.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			out.Set(x, y, src.At(b.Min.X+x*b.Dx()/n, b.Min.Y+y*b.Dy()/n))
		}
	}
	return out
}

// writePNG writes img to path.
func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create contact sheet: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode contact sheet %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close contact sheet %s: %w", path, err)
	}
	return nil
}

// ContactSheet writes a PNG grid to path: one row per concept (the target
// task's classes first, then the most frequent concepts), perConcept crawl
// photos of it across. It reads images from the world directory.
func ContactSheet(w *World, path string, concepts, perConcept int) error {
	if concepts < 1 || perConcept < 1 {
		return fmt.Errorf("contact sheet: want at least one concept and one image, got %d×%d", concepts, perConcept)
	}
	truth, err := w.Truth()
	if err != nil {
		return fmt.Errorf("contact sheet: %w", err)
	}
	byConcept := map[string][]string{}
	for _, t := range truth {
		if t.Kind == kindNames[kindPhoto] && len(t.Shows) == 1 {
			byConcept[t.Shows[0]] = append(byConcept[t.Shows[0]], t.Image)
		}
	}
	var order []string
	seen := map[string]bool{}
	add := func(wnid string) {
		if !seen[wnid] && len(byConcept[wnid]) > 0 && len(order) < concepts {
			seen[wnid] = true
			order = append(order, wnid)
		}
	}
	for _, c := range w.Target.Classes {
		add(c)
	}
	ranked := append([]Concept(nil), w.Concepts...)
	sort.Slice(ranked, func(i, j int) bool { return ranked[i].Rank < ranked[j].Rank })
	for _, c := range ranked {
		add(c.WNID)
	}
	var rows [][]image.Image
	var labels []string
	for _, wnid := range order {
		var row []image.Image
		for _, rel := range byConcept[wnid][:min(perConcept, len(byConcept[wnid]))] {
			img, err := readJPEG(w.Path(rel))
			if err != nil {
				return fmt.Errorf("contact sheet: %w", err)
			}
			row = append(row, img)
		}
		c, _ := w.Concept(wnid)
		rows = append(rows, row)
		labels = append(labels, c.Name)
	}
	return writePNG(path, sheetImage(rows, labels, 64))
}

func readJPEG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open image: %w", err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return img, nil
}
