package wordnet

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// POS is a WordNet part of speech.
type POS uint8

// The parts of speech, in the order WordNet numbers them.
const (
	Noun POS = iota
	Verb
	Adj
	Adv
	numPOS
)

var posNames = [numPOS]string{"noun", "verb", "adj", "adv"}

func (p POS) String() string {
	if p < numPOS {
		return posNames[p]
	}
	return "pos(" + strconv.Itoa(int(p)) + ")"
}

// Errors returned by lookups.
var (
	ErrNoSynset = errors.New("no such noun synset")
	ErrBadWNID  = errors.New("malformed wnid (want n + 8 digits)")
)

// PointerKind is the kind of a relation between two noun synsets.
type PointerKind uint8

// The relations kept from data.noun.
const (
	Hypernym         PointerKind = iota // @
	InstanceHypernym                    // @i
	Hyponym                             // ~
	InstanceHyponym                     // ~i
	numPointerKinds
)

var pointerSymbols = [numPointerKinds]string{"@", "@i", "~", "~i"}

func (k PointerKind) String() string {
	if k < numPointerKinds {
		return pointerSymbols[k]
	}
	return "ptr(" + strconv.Itoa(int(k)) + ")"
}

// Pointer is one relation from a synset to another noun synset.
type Pointer struct {
	Kind   PointerKind
	Target *Synset
}

// Word is one lemma of a synset as data.noun spells it ("Ursus_arctos"),
// with its lexicographer id.
type Word struct {
	Lemma string
	LexID uint8
}

// Synset is one noun synset.
type Synset struct {
	Offset   uint32 // byte offset in data.noun; the synset's identity
	LexFile  uint8  // lexicographer file number (5 = noun.animal)
	Words    []Word // in the synset's own order; Words[0] is its head lemma
	Gloss    string
	Pointers []Pointer
	index    int32
}

// Index is the synset's position in DB.Synsets (offset order), for tables
// indexed by synset.
func (s *Synset) Index() int { return int(s.index) }

// WNID is the ImageNet-style synset id: 'n' and the 8-digit offset.
func (s *Synset) WNID() string {
	var b [9]byte
	b[0] = 'n'
	v := s.Offset
	for i := 8; i >= 1; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[:])
}

// Lemmas returns the synset's lemmas with spaces for underscores
// ("Ursus arctos").
func (s *Synset) Lemmas() []string {
	out := make([]string, len(s.Words))
	for i, w := range s.Words {
		out[i] = strings.ReplaceAll(w.Lemma, "_", " ")
	}
	return out
}

// LexFileName is the name of the synset's lexicographer file ("noun.animal").
func (s *Synset) LexFileName() string {
	if int(s.LexFile) < len(lexFileNames) {
		return lexFileNames[s.LexFile]
	}
	return "lexfile." + strconv.Itoa(int(s.LexFile))
}

// Related returns the targets of the synset's pointers of the given kinds.
func (s *Synset) Related(kinds ...PointerKind) []*Synset {
	var out []*Synset
	for _, p := range s.Pointers {
		for _, k := range kinds {
			if p.Kind == k {
				out = append(out, p.Target)
				break
			}
		}
	}
	return out
}

// Hypernyms returns the synset's hypernyms, instance hypernyms included.
func (s *Synset) Hypernyms() []*Synset { return s.Related(Hypernym, InstanceHypernym) }

// Hyponyms returns the synset's hyponyms, instance hyponyms included.
func (s *Synset) Hyponyms() []*Synset { return s.Related(Hyponym, InstanceHyponym) }

func (s *Synset) String() string {
	return s.WNID() + " " + s.Words[0].Lemma
}

// Lemma is one entry of index.noun.
type Lemma struct {
	Name         string    // lower case, words joined by '_' ("brown_bear")
	Synsets      []*Synset // WordNet sense order
	TaggedSenses int       // how many leading senses are ordered by tag counts
}

// Ranked returns the lemma's synsets with the frequency-ordered senses first
// in WordNet's order and the untagged senses after them in ascending offset
// order: by lexicographer file, then in the order the lexicographers wrote
// them within a file (so "bruin" the brown bear, bruin1 in noun.animal, comes
// before bruin2, the bear of fables). WordNet 3.0 itself lists untagged senses
// in descending offset order, which says nothing about which is more common.
func (l *Lemma) Ranked() []*Synset {
	n := l.TaggedSenses
	if n > len(l.Synsets) {
		n = len(l.Synsets)
	}
	if len(l.Synsets)-n < 2 {
		return l.Synsets
	}
	out := make([]*Synset, len(l.Synsets))
	copy(out, l.Synsets)
	rest := out[n:]
	sort.Slice(rest, func(i, j int) bool { return rest[i].Offset < rest[j].Offset })
	return out
}

// DB is a WordNet noun database. It is immutable and safe for concurrent use.
type DB struct {
	source  string
	synsets []Synset          // ascending offset
	lemmas  []*Lemma          // ascending name
	byName  map[string]*Lemma // index.noun lemmas
	exc     [numPOS]map[string][]string
	other   [numPOS]map[string]struct{} // lemma sets of verb, adj, adv (Noun unused)
}

// Source says where the database was read from.
func (db *DB) Source() string { return db.source }

// Synsets returns every noun synset in ascending offset order. The slice is
// shared; do not modify it.
func (db *DB) Synsets() []Synset { return db.synsets }

// Lemmas returns every noun lemma in index order (ascending name). The slice
// is shared; do not modify it.
func (db *DB) Lemmas() []*Lemma { return db.lemmas }

// Key turns a word or collocation into WordNet's index form: lower case,
// spaces as underscores ("Brown bear" → "brown_bear").
func Key(word string) string {
	word = strings.TrimSpace(word)
	if isIndexKey(word) {
		return word
	}
	return strings.ReplaceAll(strings.ToLower(word), " ", "_")
}

func isIndexKey(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || (c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Lemma returns the index entry of a noun lemma ("brown bear", "Brown_Bear"),
// or nil when WordNet has no such noun.
func (db *DB) Lemma(word string) *Lemma {
	return db.byName[Key(word)]
}

// Lookup returns the noun synsets of a lemma in sense order; nil when there
// are none. It does not reduce inflected forms: see Detach and ExceptionList.
func (db *DB) Lookup(word string) []*Synset {
	if l := db.Lemma(word); l != nil {
		return l.Synsets
	}
	return nil
}

// ExceptionList returns the whole exception list of pos, inflected form →
// base forms, in index form. The map is shared; do not modify it.
func (db *DB) ExceptionList(pos POS) map[string][]string {
	if pos >= numPOS {
		return nil
	}
	return db.exc[pos]
}

// LemmaSet returns the lemmas of a part of speech other than Noun (for nouns
// see Lemmas), in index form. The map is shared; do not modify it.
func (db *DB) LemmaSet(pos POS) map[string]struct{} {
	if pos >= numPOS || pos == Noun {
		return nil
	}
	return db.other[pos]
}

// SynsetAt returns the noun synset at a data.noun offset, or nil.
func (db *DB) SynsetAt(offset uint32) *Synset {
	i := sort.Search(len(db.synsets), func(i int) bool { return db.synsets[i].Offset >= offset })
	if i < len(db.synsets) && db.synsets[i].Offset == offset {
		return &db.synsets[i]
	}
	return nil
}

// Synset returns the noun synset with the given wnid ("n02132136").
func (db *DB) Synset(wnid string) (*Synset, error) {
	off, err := ParseWNID(wnid)
	if err != nil {
		return nil, err
	}
	s := db.SynsetAt(off)
	if s == nil {
		return nil, fmt.Errorf("look up %s: %w", wnid, ErrNoSynset)
	}
	return s, nil
}

// ParseWNID returns the data.noun offset of a wnid ("n02132136" → 2132136).
func ParseWNID(wnid string) (uint32, error) {
	if len(wnid) != 9 || wnid[0] != 'n' {
		return 0, fmt.Errorf("parse wnid %q: %w", wnid, ErrBadWNID)
	}
	var v uint32
	for i := 1; i < 9; i++ {
		c := wnid[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("parse wnid %q: %w", wnid, ErrBadWNID)
		}
		v = v*10 + uint32(c-'0')
	}
	return v, nil
}

var lexFileNames = []string{
	"adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal",
	"noun.artifact", "noun.attribute", "noun.body", "noun.cognition",
	"noun.communication", "noun.event", "noun.feeling", "noun.food",
	"noun.group", "noun.location", "noun.motive", "noun.object", "noun.person",
	"noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
	"noun.quantity", "noun.relation", "noun.shape", "noun.state",
	"noun.substance", "noun.time", "verb.body", "verb.change",
	"verb.cognition", "verb.communication", "verb.competition",
	"verb.consumption", "verb.contact", "verb.creation", "verb.emotion",
	"verb.motion", "verb.perception", "verb.possession", "verb.social",
	"verb.stative", "verb.weather", "adj.ppl",
}
