package wordnet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ParseError reports a malformed line of a WordNet database file.
type ParseError struct {
	File string // base name, "data.noun"
	Line int    // 1-based
	Err  error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("parse %s line %d: %v", e.File, e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

var posFiles = [numPOS]struct{ index, exc string }{
	{"index.noun", "noun.exc"},
	{"index.verb", "verb.exc"},
	{"index.adj", "adj.exc"},
	{"index.adv", "adv.exc"},
}

// Open reads a WordNet database directory (index.noun, data.noun, noun.exc;
// and index.verb, index.adj, index.adv with their exception lists when they
// exist). A malformed line is a *ParseError naming file and line.
func Open(dir string) (*DB, error) {
	db := &DB{source: dir, byName: map[string]*Lemma{}}
	if err := db.readData(filepath.Join(dir, "data.noun")); err != nil {
		return nil, err
	}
	if err := db.readNounIndex(filepath.Join(dir, "index.noun")); err != nil {
		return nil, err
	}
	for pos := Noun; pos < numPOS; pos++ {
		excPath := filepath.Join(dir, posFiles[pos].exc)
		if pos != Noun {
			path := filepath.Join(dir, posFiles[pos].index)
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err := db.readOtherIndex(path, pos); err != nil {
				return nil, err
			}
		}
		if _, err := os.Stat(excPath); pos != Noun && errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := db.readExceptions(excPath, pos); err != nil {
			return nil, err
		}
	}
	return db, nil
}

// eachLine calls fn with every line of a file that is not part of the
// license header (lines starting with two spaces), with its 1-based number and
// byte offset. An error from fn becomes a *ParseError for that line.
func eachLine(path string, fn func(line string, num int, offset int64) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open wordnet file: %w", err)
	}
	defer f.Close()
	return scanLines(f, filepath.Base(path), fn)
}

func scanLines(r io.Reader, name string, fn func(line string, num int, offset int64) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var off int64
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		lineOff := off
		off += int64(len(line)) + 1
		if strings.HasPrefix(line, "  ") || line == "" {
			continue
		}
		if err := fn(line, n, lineOff); err != nil {
			return &ParseError{File: name, Line: n, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return &ParseError{File: name, Line: n + 1, Err: err}
	}
	return nil
}

type rawPointer struct {
	kind   PointerKind
	target uint32
}

type dataEntry struct {
	offset  uint32
	lexFile uint8
	words   []Word
	gloss   string
	ptrs    []rawPointer
}

func (db *DB) readData(path string) error {
	var ptrs [][]rawPointer
	var lines []int
	err := eachLine(path, func(line string, n int, off int64) error {
		e, err := parseDataLine(line, 'n')
		if err != nil {
			return err
		}
		if int64(e.offset) != off {
			return fmt.Errorf("synset offset %08d is not the line's byte offset %d", e.offset, off)
		}
		db.synsets = append(db.synsets, Synset{Offset: e.offset, LexFile: e.lexFile, Words: e.words, Gloss: e.gloss, index: int32(len(db.synsets))})
		ptrs = append(ptrs, e.ptrs)
		lines = append(lines, n)
		return nil
	})
	if err != nil {
		return err
	}
	if len(db.synsets) == 0 {
		return fmt.Errorf("read %s: no synsets", path)
	}
	for i := range db.synsets {
		for _, p := range ptrs[i] {
			t := db.SynsetAt(p.target)
			if t == nil {
				return &ParseError{File: filepath.Base(path), Line: lines[i],
					Err: fmt.Errorf("synset %08d points to missing synset %08d", db.synsets[i].Offset, p.target)}
			}
			db.synsets[i].Pointers = append(db.synsets[i].Pointers, Pointer{Kind: p.kind, Target: t})
		}
	}
	return nil
}

// parseDataLine parses one data.* line:
// offset lex_filenum ss_type w_cnt (word lex_id)... p_cnt (symbol offset pos src/tgt)... | gloss
func parseDataLine(line string, pos byte) (dataEntry, error) {
	var e dataEntry
	bar := strings.Index(line, " | ")
	head := line
	if bar >= 0 {
		head = line[:bar]
		e.gloss = strings.TrimRight(line[bar+3:], " ")
	} else if strings.HasSuffix(strings.TrimRight(line, " "), " |") {
		head = strings.TrimSuffix(strings.TrimRight(line, " "), " |")
	} else {
		return e, errors.New("no gloss separator \" | \"")
	}
	f := strings.Fields(head)
	if len(f) < 6 {
		return e, fmt.Errorf("%d fields, want at least 6", len(f))
	}
	off, err := parseOffset(f[0])
	if err != nil {
		return e, err
	}
	e.offset = off
	lf, err := strconv.ParseUint(f[1], 10, 8)
	if err != nil || len(f[1]) != 2 {
		return e, fmt.Errorf("lex_filenum %q: want 2 digits", f[1])
	}
	e.lexFile = uint8(lf)
	if len(f[2]) != 1 || (f[2][0] != pos && !(pos == 'a' && f[2][0] == 's')) {
		return e, fmt.Errorf("ss_type %q: want %c", f[2], pos)
	}
	wc, err := strconv.ParseUint(f[3], 16, 8)
	if err != nil || len(f[3]) != 2 || wc == 0 {
		return e, fmt.Errorf("w_cnt %q: want 2 hex digits, not 00", f[3])
	}
	i := 4
	if len(f) < i+2*int(wc)+1 {
		return e, fmt.Errorf("w_cnt %d: line has only %d fields", wc, len(f))
	}
	e.words = make([]Word, wc)
	for k := 0; k < int(wc); k++ {
		w, id := f[i], f[i+1]
		i += 2
		if p := strings.IndexByte(w, '('); p > 0 && strings.HasSuffix(w, ")") {
			w = w[:p] // adjective syntactic marker
		}
		lid, err := strconv.ParseUint(id, 16, 8)
		if err != nil || len(id) != 1 {
			return e, fmt.Errorf("lex_id %q of %q: want 1 hex digit", id, w)
		}
		e.words[k] = Word{Lemma: w, LexID: uint8(lid)}
	}
	pc, err := strconv.ParseUint(f[i], 10, 16)
	if err != nil || len(f[i]) != 3 {
		return e, fmt.Errorf("p_cnt %q: want 3 digits", f[i])
	}
	i++
	if len(f) < i+4*int(pc) {
		return e, fmt.Errorf("p_cnt %d: line has only %d fields", pc, len(f))
	}
	for k := 0; k < int(pc); k++ {
		sym, to, tpos, st := f[i], f[i+1], f[i+2], f[i+3]
		i += 4
		t, err := parseOffset(to)
		if err != nil {
			return e, fmt.Errorf("pointer %d: %w", k+1, err)
		}
		if len(tpos) != 1 || !strings.Contains("nvasr", tpos) {
			return e, fmt.Errorf("pointer %d: pos %q", k+1, tpos)
		}
		if _, err := strconv.ParseUint(st, 16, 16); err != nil || len(st) != 4 {
			return e, fmt.Errorf("pointer %d: source/target %q: want 4 hex digits", k+1, st)
		}
		if tpos != "n" || pos != 'n' {
			continue
		}
		for kind := PointerKind(0); kind < numPointerKinds; kind++ {
			if sym == pointerSymbols[kind] {
				e.ptrs = append(e.ptrs, rawPointer{kind: kind, target: t})
			}
		}
	}
	if i != len(f) {
		return e, fmt.Errorf("%d unexpected fields after the pointers", len(f)-i)
	}
	return e, nil
}

func parseOffset(s string) (uint32, error) {
	if len(s) != 8 {
		return 0, fmt.Errorf("synset offset %q: want 8 digits", s)
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("synset offset %q: want 8 digits", s)
	}
	return uint32(v), nil
}

type indexEntry struct {
	name    string
	tagged  int
	offsets []uint32
}

// parseIndexLine parses one index.* line:
// lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
func parseIndexLine(line string, pos byte) (indexEntry, error) {
	var e indexEntry
	f := strings.Fields(line)
	if len(f) < 7 {
		return e, fmt.Errorf("%d fields, want at least 7", len(f))
	}
	e.name = f[0]
	if len(f[1]) != 1 || f[1][0] != pos {
		return e, fmt.Errorf("pos %q: want %c", f[1], pos)
	}
	sc, err := strconv.Atoi(f[2])
	if err != nil || sc < 1 {
		return e, fmt.Errorf("synset_cnt %q: want a positive number", f[2])
	}
	pc, err := strconv.Atoi(f[3])
	if err != nil || pc < 0 {
		return e, fmt.Errorf("p_cnt %q: want a number", f[3])
	}
	i := 4 + pc
	if len(f) != i+2+sc {
		return e, fmt.Errorf("%d fields, want %d for %d pointer symbols and %d synsets", len(f), i+2+sc, pc, sc)
	}
	if senses, err := strconv.Atoi(f[i]); err != nil || senses != sc {
		return e, fmt.Errorf("sense_cnt %q: want %d (synset_cnt)", f[i], sc)
	}
	e.tagged, err = strconv.Atoi(f[i+1])
	if err != nil || e.tagged < 0 || e.tagged > sc {
		return e, fmt.Errorf("tagsense_cnt %q: want 0..%d", f[i+1], sc)
	}
	e.offsets = make([]uint32, sc)
	for k := range e.offsets {
		if e.offsets[k], err = parseOffset(f[i+2+k]); err != nil {
			return e, err
		}
	}
	return e, nil
}

var indexPOS = [numPOS]byte{'n', 'v', 'a', 'r'}

func (db *DB) readNounIndex(path string) error {
	err := eachLine(path, func(line string, _ int, _ int64) error {
		e, err := parseIndexLine(line, 'n')
		if err != nil {
			return err
		}
		if _, dup := db.byName[e.name]; dup {
			return fmt.Errorf("lemma %q listed twice", e.name)
		}
		l := &Lemma{Name: e.name, TaggedSenses: e.tagged, Synsets: make([]*Synset, len(e.offsets))}
		for k, off := range e.offsets {
			if l.Synsets[k] = db.SynsetAt(off); l.Synsets[k] == nil {
				return fmt.Errorf("lemma %q: synset %08d is not in data.noun", e.name, off)
			}
		}
		db.byName[e.name] = l
		db.lemmas = append(db.lemmas, l)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(db.lemmas, func(i, j int) bool { return db.lemmas[i].Name < db.lemmas[j].Name })
	return nil
}

func (db *DB) readOtherIndex(path string, pos POS) error {
	set := map[string]struct{}{}
	err := eachLine(path, func(line string, _ int, _ int64) error {
		e, err := parseIndexLine(line, indexPOS[pos])
		if err != nil {
			return err
		}
		set[e.name] = struct{}{}
		return nil
	})
	db.other[pos] = set
	return err
}

func parseExcLine(line string) (string, []string, error) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return "", nil, fmt.Errorf("%d fields, want an inflected form and at least one base form", len(f))
	}
	return f[0], f[1:], nil
}

func (db *DB) readExceptions(path string, pos POS) error {
	m := map[string][]string{}
	err := eachLine(path, func(line string, _ int, _ int64) error {
		w, bases, err := parseExcLine(line)
		if err != nil {
			return err
		}
		m[w] = append(m[w], bases...)
		return nil
	})
	db.exc[pos] = m
	return err
}
