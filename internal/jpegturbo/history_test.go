package jpegturbo

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"testing"
)

// segment is one marker segment of a JPEG header: data[start:end] is the
// marker and its payload.
type segment struct {
	marker     byte
	start, end int
}

// segments lists the marker segments of data from the first after SOI up
// to and including SOS.
func segments(t *testing.T, data []byte) []segment {
	t.Helper()
	var out []segment
	for i := 2; i+4 <= len(data) && data[i] == 0xff; {
		s := segment{data[i+1], i, i + 2 + (int(data[i+2])<<8 | int(data[i+3]))}
		out = append(out, s)
		if s.marker == 0xda {
			return out
		}
		i = s.end
	}
	t.Fatal("no SOS segment in the test JPEG")
	return nil
}

// find returns the first segment of data with marker m.
func find(t *testing.T, data []byte, m byte) segment {
	t.Helper()
	for _, s := range segments(t, data) {
		if s.marker == m {
			return s
		}
	}
	t.Fatalf("no %#x segment in the test JPEG", m)
	return segment{}
}

// withoutDHT drops every Huffman table segment: a JPEG as Motion-JPEG
// cameras write them, which relies on the standard tables.
func withoutDHT(t *testing.T, data []byte) []byte {
	out := bytes.Clone(data[:2])
	last := 2
	for _, s := range segments(t, data) {
		if s.marker == 0xc4 {
			out = append(out, data[last:s.start]...)
			last = s.end
		}
	}
	return append(out, data[last:]...)
}

// reversedDHT returns the Huffman table segment of data with the symbols
// of each table in reverse order: valid tables, but not the ones the
// entropy-coded data was written with.
func reversedDHT(t *testing.T, data []byte) []byte {
	s := find(t, data, 0xc4)
	seg := bytes.Clone(data[s.start:s.end])
	for i := 4; i < len(seg); {
		n := 0
		for _, c := range seg[i+1 : i+17] {
			n += int(c)
		}
		syms := seg[i+17 : i+17+n]
		for a, b := 0, len(syms)-1; a < b; a, b = a+1, b-1 {
			syms[a], syms[b] = syms[b], syms[a]
		}
		i += 17 + n
	}
	return seg
}

// decoded is what one Size and Decode call return, as comparable values.
type decoded struct {
	w, h    int
	sizeErr string
	kind    string // type, bounds and layout of the image
	pixels  [32]byte
	err     string
}

func (r decoded) String() string {
	return fmt.Sprintf("size %dx%d (err %q), %s %x (err %q)", r.w, r.h, r.sizeErr, r.kind, r.pixels[:6], r.err)
}

// decodeWith calls d.Size and d.Decode(data, s) and summarizes both.
func decodeWith(t *testing.T, d *Decoder, data []byte, s Scale) decoded {
	t.Helper()
	var r decoded
	var err error
	if r.w, r.h, err = d.Size(data); err != nil {
		r.sizeErr = err.Error()
	}
	img, err := d.Decode(data, s)
	if err != nil {
		r.err = err.Error()
		return r
	}
	h := sha256.New()
	switch m := img.(type) {
	case *image.YCbCr:
		r.kind = fmt.Sprintf("YCbCr %v %v strides %d,%d", m.Rect, m.SubsampleRatio, m.YStride, m.CStride)
		h.Write(m.Y)
		h.Write(m.Cb)
		h.Write(m.Cr)
	case *image.Gray:
		r.kind = fmt.Sprintf("Gray %v stride %d", m.Rect, m.Stride)
		h.Write(m.Pix)
	case *image.CMYK:
		r.kind = fmt.Sprintf("CMYK %v stride %d", m.Rect, m.Stride)
		h.Write(m.Pix)
	default:
		t.Fatalf("decoded %T, which the test does not compare", img)
	}
	h.Sum(r.pixels[:0])
	return r
}

// TestDecodeIndependentOfHistory: what a Decoder returns for a JPEG depends
// on its bytes alone, not on what the decoder read before. Good JPEGs are
// decoded, at full size and DCT-scaled, right after JPEGs that leave
// libjpeg-turbo's decompressor in another state (an error inside a header
// marker, a header libjpeg-turbo refuses and image/jpeg reads, a
// tables-only datastream, other Huffman tables), and then all of them in
// shuffled orders; every result must be exactly a new Decoder's. A
// decompressor kept across calls failed this: after a JPEG cut inside its
// Huffman tables every later header failed, and every later image came
// from image/jpeg at full size; and a JPEG without Huffman tables of its
// own was decoded with the previous JPEG's.
func TestDecodeIndependentOfHistory(t *testing.T) {
	photo := readTestdata(t, "photo-420.jpg")
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, goDecoded(t, readTestdata(t, "photo-444.jpg")), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	standard := buf.Bytes() // image/jpeg writes the standard Huffman tables
	buf.Reset()
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 65501, 2)), nil); err != nil {
		t.Fatal(err)
	}
	tooWide := bytes.Clone(buf.Bytes())
	dht, sos := find(t, photo, 0xc4), find(t, photo, 0xda)
	reversed := reversedDHT(t, standard)
	sd := find(t, standard, 0xc4)

	good := map[string][]byte{
		"photo 4:2:0":       photo,
		"photo 4:2:2":       readTestdata(t, "photo-422.jpg"),
		"photo 4:4:4":       readTestdata(t, "photo-444.jpg"),
		"photo gray":        readTestdata(t, "photo-gray.jpg"),
		"CMYK":              readTestdata(t, "cmyk.jpg"),
		"no Huffman tables": withoutDHT(t, standard),
	}
	upsetting := map[string][]byte{
		"cut inside its Huffman tables": photo[:dht.start+12],
		"cut inside its SOS segment":    photo[:sos.start+7],
		"cut before its tables":         photo[:20],
		"cut in its scan":               photo[:len(photo)*2/3],
		"65501 pixels wide":             tooWide,
		"tables only":                   append(append([]byte{0xff, 0xd8}, reversed...), 0xff, 0xd9),
		"other Huffman tables":          append(append(bytes.Clone(standard[:sd.start]), reversed...), standard[sd.end:]...),
	}
	scales := []Scale{Full, 4, 1}
	type input struct {
		name string
		data []byte
		s    Scale
	}
	var all []input
	want := map[string]decoded{}
	for _, set := range []map[string][]byte{good, upsetting} {
		for name, data := range set {
			for _, s := range scales {
				var d Decoder
				k := fmt.Sprintf("%s at %d/8", name, s)
				want[k] = decodeWith(t, &d, data, s)
				d.Close()
				all = append(all, input{name, data, s})
			}
		}
	}
	needed := []string{"photo 4:2:0"}
	if Codec == "libjpeg-turbo" { // image/jpeg has no standard Huffman tables to fall back on
		needed = append(needed, "no Huffman tables")
	}
	for _, name := range needed {
		if r := want[name+" at 4/8"]; r.err != "" || r.kind == "" {
			t.Fatalf("%s at 4/8 does not decode with a new decoder (%v): the test needs it to", name, r)
		}
	}

	check := func(d *Decoder, in input, after string) {
		t.Helper()
		k := fmt.Sprintf("%s at %d/8", in.name, in.s)
		if got := decodeWith(t, d, in.data, in.s); got != want[k] {
			t.Errorf("%s (%s), after %s:\n got %v\nwant %v (a new decoder's)", k, Codec, after, got, want[k])
		}
	}
	for uname, u := range upsetting {
		for _, in := range all {
			var d Decoder
			decodeWith(t, &d, u, Full)
			check(&d, in, uname)
			d.Close()
		}
	}
	var d Decoder
	defer d.Close()
	r := rand.New(rand.NewPCG(1, 2))
	after := "nothing"
	for round := range 3 {
		r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		for _, in := range all {
			check(&d, in, after)
			after = fmt.Sprintf("%s at %d/8 (shuffled round %d)", in.name, in.s, round)
		}
	}
}
