package canonicalize

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"weaksup/atomicfile"
	"weaksup/wordnet"
)

// DefaultVocabSize is the paper's vocabulary size (Mahajan et al. 2018).
const DefaultVocabSize = 17517

// VocabHeader is the first line of vocab.tsv.
const VocabHeader = "id\ttag\twnid\tcount\tmembers"

// ErrVocab is wrapped by every error about a malformed vocabulary.
var ErrVocab = errors.New("malformed vocabulary")

// Entry is one label of a vocabulary.
type Entry struct {
	ID      int32  // label id, 0..Len()-1
	Tag     string // canonical tag
	WNID    string // WordNet noun synset ("n02132136")
	Count   int64  // images labelled with it
	Members []string
	// Members are the hashtag forms (noun lemmas in joined form) that stand
	// for this label; inflections reach them through morphy. A form listed
	// here labels with this entry whatever the sense policy would pick among
	// the lemma's other senses.
}

// Vocabulary is the label set: entries with dense ids. It is not modified
// after it is built, except for counts by SetCounts.
type Vocabulary struct {
	Entries []Entry
	byWNID  map[string]int32
	byOff   map[uint32]int32 // synset offset → id
	byTag   map[string]int32
	members map[string][]int32
}

// NewVocabulary checks entries (ids 0..n-1 in order, unique tags and wnids,
// tags and members free of tabs, commas and newlines) and indexes them.
func NewVocabulary(entries []Entry) (*Vocabulary, error) {
	v := &Vocabulary{
		Entries: entries,
		byWNID:  make(map[string]int32, len(entries)),
		byOff:   make(map[uint32]int32, len(entries)),
		byTag:   make(map[string]int32, len(entries)),
		members: map[string][]int32{},
	}
	for i := range entries {
		e := &entries[i]
		switch {
		case e.ID != int32(i):
			return nil, fmt.Errorf("entry %d has id %d: %w: ids must be 0, 1, 2, ... in order", i, e.ID, ErrVocab)
		case e.Tag == "" || strings.ContainsAny(e.Tag, "\t\n\r,"):
			return nil, fmt.Errorf("entry %d: tag %q: %w", i, e.Tag, ErrVocab)
		case !validWNID(e.WNID):
			return nil, fmt.Errorf("entry %d: wnid %q: %w", i, e.WNID, ErrVocab)
		case e.Count < 0:
			return nil, fmt.Errorf("entry %d: count %d: %w", i, e.Count, ErrVocab)
		}
		if j, dup := v.byTag[e.Tag]; dup {
			return nil, fmt.Errorf("entries %d and %d: tag %q twice: %w", j, i, e.Tag, ErrVocab)
		}
		if j, dup := v.byWNID[e.WNID]; dup {
			return nil, fmt.Errorf("entries %d and %d: wnid %s twice: %w", j, i, e.WNID, ErrVocab)
		}
		v.byTag[e.Tag] = e.ID
		v.byWNID[e.WNID] = e.ID
		off, _ := wordnet.ParseWNID(e.WNID)
		v.byOff[off] = e.ID
		for _, m := range e.Members {
			if m == "" || strings.ContainsAny(m, "\t\n\r,") {
				return nil, fmt.Errorf("entry %d: member %q: %w", i, m, ErrVocab)
			}
			v.members[m] = append(v.members[m], e.ID)
		}
	}
	return v, nil
}

func validWNID(s string) bool {
	if len(s) != 9 || s[0] != 'n' {
		return false
	}
	for i := 1; i < 9; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Len is the number of labels.
func (v *Vocabulary) Len() int { return len(v.Entries) }

// BySynset returns the id of a synset's entry.
func (v *Vocabulary) BySynset(s *wordnet.Synset) (int32, bool) {
	id, ok := v.byOff[s.Offset]
	return id, ok
}

// ByTag returns the entry of a canonical tag.
func (v *Vocabulary) ByTag(tag string) (*Entry, bool) {
	id, ok := v.byTag[tag]
	if !ok {
		return nil, false
	}
	return &v.Entries[id], true
}

// Top returns the n entries with the most images (all of them when n is
// negative or at least Len), most first, ties by id. The vocabulary is not
// changed.
func (v *Vocabulary) Top(n int) []Entry {
	out := slices.Clone(v.Entries)
	slices.SortStableFunc(out, func(a, b Entry) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if n >= 0 && n < len(out) {
		out = out[:n]
	}
	return out
}

// MemberOf returns the ids of the entries that list a hashtag form.
func (v *Vocabulary) MemberOf(form string) []int32 { return v.members[form] }

// Hash identifies the label space: a SHA-256 over every entry's id, tag and
// wnid, written "sha256:<hex>". Counts and members do not change it, so a
// vocabulary reused from a file keeps its hash.
func (v *Vocabulary) Hash() string {
	h := sha256.New()
	for _, e := range v.Entries {
		fmt.Fprintf(h, "%d\t%s\t%s\n", e.ID, e.Tag, e.WNID)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Write writes the vocabulary as vocab.tsv: the header line, then one line
// per entry: id, tag, wnid, count, comma-separated members.
func (v *Vocabulary) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(VocabHeader + "\n")
	for _, e := range v.Entries {
		bw.WriteString(strconv.Itoa(int(e.ID)))
		bw.WriteByte('\t')
		bw.WriteString(e.Tag)
		bw.WriteByte('\t')
		bw.WriteString(e.WNID)
		bw.WriteByte('\t')
		bw.WriteString(strconv.FormatInt(e.Count, 10))
		bw.WriteByte('\t')
		bw.WriteString(strings.Join(e.Members, ","))
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write vocabulary: %w", err)
	}
	return nil
}

// WriteFile writes the vocabulary to path atomically (temporary file, fsync,
// rename).
func (v *Vocabulary) WriteFile(path string) error {
	if err := atomicfile.Write(path, v.Write); err != nil {
		return fmt.Errorf("write vocabulary: %w", err)
	}
	return nil
}

// LoadVocabulary reads a vocab.tsv file.
func LoadVocabulary(path string) (*Vocabulary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load vocabulary: %w", err)
	}
	defer f.Close()
	return ReadVocabulary(f, path)
}

// ReadVocabulary reads vocab.tsv from r; name is used in errors.
func ReadVocabulary(r io.Reader, name string) (*Vocabulary, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var entries []Entry
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			if text != VocabHeader {
				return nil, fmt.Errorf("read vocabulary %s line 1: %w: header %q, want %q", name, ErrVocab, text, VocabHeader)
			}
			continue
		}
		if text == "" {
			continue
		}
		e, err := parseEntry(text)
		if err != nil {
			return nil, fmt.Errorf("read vocabulary %s line %d: %w", name, line, err)
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read vocabulary %s line %d: %w", name, line+1, err)
	}
	if line == 0 {
		return nil, fmt.Errorf("read vocabulary %s: %w: empty file", name, ErrVocab)
	}
	v, err := NewVocabulary(entries)
	if err != nil {
		return nil, fmt.Errorf("read vocabulary %s: %w", name, err)
	}
	return v, nil
}

func parseEntry(text string) (Entry, error) {
	f := strings.Split(text, "\t")
	if len(f) != 5 {
		return Entry{}, fmt.Errorf("%w: %d fields, want 5 (%s)", ErrVocab, len(f), VocabHeader)
	}
	id, err := strconv.ParseInt(f[0], 10, 32)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: id %q", ErrVocab, f[0])
	}
	count, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: count %q", ErrVocab, f[3])
	}
	e := Entry{ID: int32(id), Tag: f[1], WNID: f[2], Count: count}
	if f[4] != "" {
		e.Members = strings.Split(f[4], ",")
	}
	return e, nil
}

// SetCounts replaces every entry's count with counts[id] (zero past its end).
func (v *Vocabulary) SetCounts(counts []int64) {
	for i := range v.Entries {
		v.Entries[i].Count = 0
		if i < len(counts) {
			v.Entries[i].Count = counts[i]
		}
	}
}

// Check verifies that every entry names a synset of the mapper's WordNet
// whose canonical tag is the entry's tag.
func (v *Vocabulary) Check(m *Mapper) error {
	for _, e := range v.Entries {
		c, err := m.ConceptByWNID(e.WNID)
		if err != nil {
			return fmt.Errorf("check vocabulary entry %d (%s): %w", e.ID, e.Tag, err)
		}
		if c.Tag != e.Tag {
			return fmt.Errorf("check vocabulary entry %d: %s is tagged %q here, not %q: %w", e.ID, e.WNID, c.Tag, e.Tag, ErrVocab)
		}
	}
	return nil
}
