package wordnet

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"unsafe"

	"github.com/klauspost/compress/zstd"
)

// The compact form is a zstd stream of: magic, source, synsets (offset delta,
// lex file, words, gloss, pointers as synset indexes), lemmas (names, tagged-sense count, senses as synset indexes), then per part of
// speech the exception list and, for verb/adj/adv, the lemma set, and a
// trailer. Integers are unsigned varints; strings are length-prefixed.
const (
	compactMagic   = "weaksup-wordnet-compact/2\n"
	compactTrailer = "end\n"
)

// ErrCompact is wrapped by every error from decoding a compact database.
var ErrCompact = errors.New("corrupt compact wordnet")

// WriteCompact writes the database in the compact form ReadCompact reads.
func (db *DB) WriteCompact(w io.Writer) error {
	var raw bytes.Buffer
	bw := bufio.NewWriterSize(&raw, 1<<16)
	e := &encoder{w: bw}
	e.str(compactMagic)
	e.str(db.source)
	index := make(map[*Synset]uint64, len(db.synsets))
	for i := range db.synsets {
		index[&db.synsets[i]] = uint64(i)
	}
	e.uint(uint64(len(db.synsets)))
	var prev uint32
	for i := range db.synsets {
		s := &db.synsets[i]
		e.uint(uint64(s.Offset - prev))
		prev = s.Offset
		e.uint(uint64(s.LexFile))
		e.uint(uint64(len(s.Words)))
		for _, w := range s.Words {
			e.str(w.Lemma)
			e.uint(uint64(w.LexID))
		}
		e.str(s.Gloss)
		e.uint(uint64(len(s.Pointers)))
		for _, p := range s.Pointers {
			e.uint(uint64(p.Kind))
			e.uint(index[p.Target])
		}
	}
	e.uint(uint64(len(db.lemmas)))
	for _, l := range db.lemmas {
		e.str(l.Name)
		e.uint(uint64(l.TaggedSenses))
		e.uint(uint64(len(l.Synsets)))
		for _, s := range l.Synsets {
			e.uint(index[s])
		}
	}
	for pos := Noun; pos < numPOS; pos++ {
		e.optionalExceptions(db.exc[pos])
		if pos != Noun {
			e.optionalSet(db.other[pos])
		}
	}
	e.str(compactTrailer)
	if e.err == nil {
		e.err = bw.Flush()
	}
	if e.err != nil {
		return fmt.Errorf("write compact wordnet: %w", e.err)
	}
	// One frame with its content size, so the reader allocates once.
	zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return fmt.Errorf("write compact wordnet: %w", err)
	}
	defer zw.Close()
	if _, err := w.Write(zw.EncodeAll(raw.Bytes(), nil)); err != nil {
		return fmt.Errorf("write compact wordnet: %w", err)
	}
	return nil
}

type encoder struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
	err error
}

func (e *encoder) uint(v uint64) {
	if e.err == nil {
		_, e.err = e.w.Write(e.buf[:binary.PutUvarint(e.buf[:], v)])
	}
}

func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

func (e *encoder) optionalExceptions(m map[string][]string) {
	if m == nil {
		e.uint(0)
		return
	}
	e.uint(1)
	keys := slices.Sorted(maps.Keys(m))
	e.uint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.uint(uint64(len(m[k])))
		for _, b := range m[k] {
			e.str(b)
		}
	}
}

func (e *encoder) optionalSet(m map[string]struct{}) {
	if m == nil {
		e.uint(0)
		return
	}
	e.uint(1)
	keys := slices.Sorted(maps.Keys(m))
	e.uint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
	}
}

// ReadCompact decodes a database written by WriteCompact.
func ReadCompact(r io.Reader) (*DB, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read compact wordnet: %w", err)
	}
	return decodeCompactZstd(src)
}

func decodeCompactZstd(src []byte) (*DB, error) {
	zr, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		return nil, fmt.Errorf("read compact wordnet: %w", err)
	}
	defer zr.Close()
	raw, err := zr.DecodeAll(src, nil)
	if err != nil {
		return nil, fmt.Errorf("read compact wordnet: %w: %w", ErrCompact, err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("read compact wordnet: %w: empty", ErrCompact)
	}
	// raw is never written again, so its bytes can back the strings.
	return decodeCompact(unsafe.String(&raw[0], len(raw)))
}

func decodeCompact(data string) (db *DB, err error) {
	d := &decoder{data: data}
	if m := d.str(); m != compactMagic {
		return nil, fmt.Errorf("read compact wordnet: %w: bad magic", ErrCompact)
	}
	db = &DB{source: d.str()}
	ns := d.count(4)
	db.synsets = make([]Synset, ns)
	var words []Word
	var ptrs []Pointer
	var off uint64
	for i := range db.synsets {
		s := &db.synsets[i]
		off += d.uint()
		if off > 1<<32-1 {
			d.fail("synset offset overflows")
		}
		s.Offset = uint32(off)
		s.index = int32(i)
		s.LexFile = d.byte()
		nw := d.count(2)
		if nw == 0 {
			d.fail("synset without words")
		}
		if cap(words)-len(words) < nw {
			words = make([]Word, 0, max(nw, 1<<14))
		}
		for k := 0; k < nw; k++ {
			words = append(words, Word{Lemma: d.str(), LexID: d.byte()})
		}
		s.Words = words[len(words)-nw : len(words) : len(words)]
		s.Gloss = d.str()
		np := d.count(2)
		if cap(ptrs)-len(ptrs) < np {
			ptrs = make([]Pointer, 0, max(np, 1<<14))
		}
		for k := 0; k < np; k++ {
			kind := PointerKind(d.uint())
			t := d.uint()
			if kind >= numPointerKinds || t >= uint64(ns) {
				d.fail("bad pointer")
				break
			}
			ptrs = append(ptrs, Pointer{Kind: kind, Target: &db.synsets[t]})
		}
		if d.err != nil {
			return nil, d.err
		}
		s.Pointers = ptrs[len(ptrs)-np : len(ptrs) : len(ptrs)]
	}
	nl := d.count(3)
	db.lemmas = make([]*Lemma, nl)
	lemmas := make([]Lemma, nl)
	db.byName = make(map[string]*Lemma, nl)
	var senses []*Synset
	for i := range lemmas {
		l := &lemmas[i]
		l.Name = d.str()
		l.TaggedSenses = int(d.uint())
		n := d.count(1)
		if n == 0 {
			d.fail("lemma without senses")
		}
		if cap(senses)-len(senses) < n {
			senses = make([]*Synset, 0, max(n, 1<<15))
		}
		for k := 0; k < n; k++ {
			t := d.uint()
			if t >= uint64(ns) {
				d.fail("bad sense")
				break
			}
			senses = append(senses, &db.synsets[t])
		}
		if d.err != nil {
			return nil, d.err
		}
		l.Synsets = senses[len(senses)-n : len(senses) : len(senses)]
		if d.err != nil {
			return nil, d.err
		}
		db.lemmas[i] = l
		db.byName[l.Name] = l
	}
	for pos := Noun; pos < numPOS; pos++ {
		db.exc[pos] = d.optionalExceptions()
		if pos != Noun {
			db.other[pos] = d.optionalSet()
		}
	}
	if t := d.str(); d.err == nil && (t != compactTrailer || d.pos != len(d.data)) {
		d.fail("bad trailer")
	}
	if d.err != nil {
		return nil, d.err
	}
	return db, nil
}

type decoder struct {
	data string
	pos  int
	err  error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("read compact wordnet: %w: %s at byte %d", ErrCompact, msg, d.pos)
	}
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if d.pos >= len(d.data) {
			d.fail("truncated")
			return 0
		}
		b := d.data[d.pos]
		d.pos++
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
		shift += 7
	}
	d.fail("bad varint")
	return 0
}

// count reads a length that must fit in what is left, given at least min
// bytes per element.
func (d *decoder) count(min int) int {
	n := d.uint()
	if n > uint64(len(d.data)-d.pos)/uint64(min) {
		d.fail("count larger than the data")
		return 0
	}
	return int(n)
}

func (d *decoder) byte() uint8 {
	v := d.uint()
	if v > 255 {
		d.fail("value over 255")
	}
	return uint8(v)
}

func (d *decoder) str() string {
	n := d.count(1)
	if d.err != nil {
		return ""
	}
	s := d.data[d.pos : d.pos+n]
	d.pos += n
	return s
}

func (d *decoder) optionalExceptions() map[string][]string {
	if d.uint() == 0 {
		return nil
	}
	n := d.count(2)
	m := make(map[string][]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		bases := make([]string, d.count(1))
		for j := range bases {
			bases[j] = d.str()
		}
		m[k] = bases
	}
	return m
}

func (d *decoder) optionalSet() map[string]struct{} {
	if d.uint() == 0 {
		return nil
	}
	n := d.count(2)
	m := make(map[string]struct{}, n)
	for i := 0; i < n && d.err == nil; i++ {
		m[d.str()] = struct{}{}
	}
	return m
}
