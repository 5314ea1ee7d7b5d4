package canonicalize

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"weaksup/wordnet"
)

// Policy says which noun senses of an ambiguous hashtag it stands for.
type Policy uint8

// Sense policies.
const (
	First         Policy = iota // the first sense (Lemma.Ranked order)
	All                         // every noun sense
	DropAmbiguous               // none when the lemma has more than one noun sense
)

var policyNames = []string{"first", "all", "drop-ambiguous"}

func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("policy(%d)", p)
}

// ParsePolicy parses "first", "all" or "drop-ambiguous".
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if s == n {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("parse sense policy %q: want first, all or drop-ambiguous", s)
}

// Reason says why a hashtag maps to no concept.
type Reason string

// Reasons a hashtag is unmapped.
const (
	ReasonEmpty     Reason = "empty"     // nothing left after normalization
	ReasonTooShort  Reason = "too_short" // fewer than MinRunes
	ReasonTooLong   Reason = "too_long"  // more than MaxRunes
	ReasonUnknown   Reason = "unknown"   // not a WordNet word
	ReasonNotNoun   Reason = "not_noun"  // a WordNet verb, adjective or adverb only
	ReasonAmbiguous Reason = "ambiguous" // several noun senses under DropAmbiguous
)

// How a hashtag reached its lemma.
const (
	ViaLemma     = "lemma"     // its normal form is a lemma's joined form
	ViaException = "exception" // the noun exception list ("geese" → goose)
	ViaSuffix    = "suffix"    // morphy's detachment rules ("brownbears" → brown bear)
	ViaCompound  = "compound"  // an exception on the last word ("snowgeese" → snow goose)
)

// Concept is a noun synset under its canonical tag.
type Concept struct {
	Tag    string // the synset's first lemma in joined form, unique (see Mapper)
	Synset *wordnet.Synset
}

// WNID is the synset's wnid ("n02132136").
func (c *Concept) WNID() string { return c.Synset.WNID() }

// Mapping is what a hashtag canonicalizes to.
type Mapping struct {
	Normal   string         // the hashtag's normal form
	Form     string         // the joined form of the lemma it reached ("brownbear")
	Lemma    *wordnet.Lemma // nil when unmapped
	Via      string         // how the lemma was reached (ViaLemma, ...)
	Senses   []*Concept     // every noun sense of the lemma, in Lemma.Ranked order
	Concepts []*Concept     // the senses the policy keeps; empty when unmapped
	Reason   Reason         // why Concepts is empty; "" when mapped
}

// OK reports whether the hashtag maps to at least one concept.
func (m Mapping) OK() bool { return len(m.Concepts) > 0 }

// form is a joined lemma form and what it maps to.
type form struct {
	key    string
	lemma  *wordnet.Lemma
	senses []*Concept
	chosen []*Concept
	reason Reason
}

type excBase struct{ joined, raw string }

// memoLimit bounds the memo of hashtags that needed morphy or did not map.
const memoLimit = 1 << 20

// Mapper canonicalizes hashtags through one WordNet database under one
// policy. It is safe for concurrent use.
type Mapper struct {
	db         *wordnet.DB
	policy     Policy
	concepts   []Concept // by Synset.Index
	byTag      map[string]*Concept
	forms      map[string]*form
	exc        map[string][]excBase
	collisions int // lemmas that lost their joined form to another
	otherOnce  sync.Once
	other      map[string]struct{} // joined verb/adj/adv lemmas and inflections
	memoMu     sync.RWMutex
	memo       map[string]*Mapping // normal forms that needed morphy or did not map
	rawMemo    map[string]*Mapping // non-ASCII hashtags as written, which are slow to normalize
}

// NewMapper indexes db's noun lemmas by joined form and names every synset.
//
// Two lemmas can join to the same form ("3-d" and "3d", "new_york" and a
// "newyork"): the form goes to the lemma written without separators, then the
// one with more tagged senses, then more senses, then the smaller name.
//
// A synset's canonical tag is its first lemma in joined form. Synsets whose
// first lemmas join alike ("bear" the animal and "bear" the investor) share
// it out: the bare tag goes to the synset the hashtag itself maps to under
// First, or else the one with the lowest offset, and the others are written
// tag_wnid ("bear_n09845191"); '_' never occurs in a normal form, so these
// cannot clash with a hashtag.
func NewMapper(db *wordnet.DB, policy Policy) *Mapper {
	m := &Mapper{db: db, policy: policy, exc: map[string][]excBase{}, memo: map[string]*Mapping{}, rawMemo: map[string]*Mapping{}}
	lemmas := db.Lemmas()
	m.forms = make(map[string]*form, len(lemmas))
	forms := make([]form, len(lemmas))
	for i, l := range lemmas {
		key := Normalize(l.Name)
		if key == "" {
			continue
		}
		if old, ok := m.forms[key]; ok {
			m.collisions++
			if !better(l, old.lemma, key) {
				continue
			}
		}
		forms[i] = form{key: key, lemma: l}
		m.forms[key] = &forms[i]
	}
	m.nameSynsets()
	senses := make([]*Concept, 0, 150_000)
	for i := range forms {
		f := &forms[i]
		if f.lemma == nil {
			continue
		}
		ranked := f.lemma.Ranked()
		start := len(senses)
		for _, s := range ranked {
			senses = append(senses, &m.concepts[s.Index()])
		}
		f.senses = senses[start:len(senses):len(senses)]
		switch {
		case policy == All:
			f.chosen = f.senses
		case policy == DropAmbiguous && len(f.senses) > 1:
			f.reason = ReasonAmbiguous
		default:
			f.chosen = f.senses[:1]
		}
	}
	nounExc := db.ExceptionList(wordnet.Noun)
	infls := make([]string, 0, len(nounExc))
	for infl := range nounExc {
		infls = append(infls, infl)
	}
	sort.Strings(infls) // inflections that join alike keep a fixed order
	for _, infl := range infls {
		key := Normalize(infl)
		for _, b := range nounExc[infl] {
			m.exc[key] = append(m.exc[key], excBase{joined: Normalize(b), raw: b})
		}
	}
	return m
}

// otherForms indexes the verb, adjective and adverb lemmas and inflections
// in joined form, on first need.
func (m *Mapper) otherForms() map[string]struct{} {
	m.otherOnce.Do(func() {
		m.other = map[string]struct{}{}
		for _, pos := range []wordnet.POS{wordnet.Verb, wordnet.Adj, wordnet.Adv} {
			for w := range m.db.LemmaSet(pos) {
				m.other[Normalize(w)] = struct{}{}
			}
			for infl := range m.db.ExceptionList(pos) {
				m.other[Normalize(infl)] = struct{}{}
			}
		}
	})
	return m.other
}

// better reports whether lemma a should own the joined form key over b.
func better(a, b *wordnet.Lemma, key string) bool {
	if (a.Name == key) != (b.Name == key) {
		return a.Name == key
	}
	if a.TaggedSenses != b.TaggedSenses {
		return a.TaggedSenses > b.TaggedSenses
	}
	if len(a.Synsets) != len(b.Synsets) {
		return len(a.Synsets) > len(b.Synsets)
	}
	return a.Name < b.Name
}

func (m *Mapper) nameSynsets() {
	synsets := m.db.Synsets()
	m.concepts = make([]Concept, len(synsets))
	m.byTag = make(map[string]*Concept, len(synsets))
	groups := map[string][]*Concept{} // tags several synsets start with
	for i := range synsets {
		s := &synsets[i]
		c := &m.concepts[i]
		c.Synset = s
		c.Tag = Normalize(s.Words[0].Lemma)
		if c.Tag == "" {
			c.Tag = s.WNID()
		}
		if prev, dup := m.byTag[c.Tag]; dup {
			if groups[c.Tag] == nil {
				groups[c.Tag] = []*Concept{prev}
			}
			groups[c.Tag] = append(groups[c.Tag], c)
			continue
		}
		m.byTag[c.Tag] = c
	}
	for tag, cs := range groups {
		owner := cs[0] // lowest offset: synsets are in offset order
		if f := m.forms[tag]; f != nil {
			first := f.lemma.Ranked()[0]
			for _, c := range cs {
				if c.Synset == first {
					owner = c
				}
			}
		}
		for _, c := range cs {
			if c != owner {
				c.Tag = tag + "_" + c.Synset.WNID()
				m.byTag[c.Tag] = c
			}
		}
		m.byTag[tag] = owner
	}
}

// DB returns the WordNet database the mapper reads.
func (m *Mapper) DB() *wordnet.DB { return m.db }

// Policy returns the mapper's sense policy.
func (m *Mapper) Policy() Policy { return m.policy }

// Concept returns the canonical concept of a synset of the mapper's database.
func (m *Mapper) Concept(s *wordnet.Synset) *Concept { return &m.concepts[s.Index()] }

// ConceptByTag returns the concept with a canonical tag, or nil.
func (m *Mapper) ConceptByTag(tag string) *Concept { return m.byTag[tag] }

// ConceptByWNID returns the concept of a wnid ("n02132136").
func (m *Mapper) ConceptByWNID(wnid string) (*Concept, error) {
	s, err := m.db.Synset(wnid)
	if err != nil {
		return nil, err
	}
	return &m.concepts[s.Index()], nil
}

// FormOf returns the joined lemma form a synset's lemma is found under, and
// whether that form leads back to lemma (it may belong to another lemma that
// joins alike).
func (m *Mapper) FormOf(lemma string) (string, bool) {
	key := Normalize(lemma)
	f := m.forms[key]
	return key, f != nil && f.lemma.Name == wordnet.Key(lemma)
}

// Map canonicalizes one hashtag (with or without its '#').
func (m *Mapper) Map(hashtag string) Mapping {
	if len(hashtag) > maxInputBytes {
		return Mapping{Normal: hashtag[:0], Reason: ReasonTooLong}
	}
	// Fast path: ASCII hashtags are normalized into a stack buffer, and the
	// lookups below index maps with string(b), which does not allocate.
	var buf [MaxRunes]byte
	if b, ok := appendNormalASCII(buf[:0], hashtag); ok {
		if f := m.forms[string(b)]; f != nil && len(b) >= MinRunes {
			return f.mapping(f.key, ViaLemma)
		}
		m.memoMu.RLock()
		mp := m.memo[string(b)]
		m.memoMu.RUnlock()
		if mp != nil {
			return *mp
		}
		return m.mapMiss(string(b))
	}
	m.memoMu.RLock()
	mp := m.rawMemo[hashtag]
	m.memoMu.RUnlock()
	if mp != nil {
		return *mp
	}
	r := m.mapNormal(Normalize(hashtag))
	m.memoMu.Lock()
	if len(m.rawMemo) < memoLimit {
		m.rawMemo[strings.Clone(hashtag)] = &r
	}
	m.memoMu.Unlock()
	return r
}

func (m *Mapper) mapNormal(n string) Mapping {
	if f := m.forms[n]; f != nil {
		if k := utf8.RuneCountInString(n); k >= MinRunes && k <= MaxRunes {
			return f.mapping(f.key, ViaLemma)
		}
	}
	m.memoMu.RLock()
	mp := m.memo[n]
	m.memoMu.RUnlock()
	if mp != nil {
		return *mp
	}
	return m.mapMiss(n)
}

// mapMiss maps a normal form that is not a lemma's joined form, and
// remembers the answer while the memo is below memoLimit.
func (m *Mapper) mapMiss(n string) Mapping {
	mp := m.mapSlow(n)
	m.memoMu.Lock()
	if len(m.memo) < memoLimit {
		m.memo[n] = &mp
	}
	m.memoMu.Unlock()
	return mp
}

func (f *form) mapping(normal, via string) Mapping {
	return Mapping{Normal: normal, Form: f.key, Lemma: f.lemma, Via: via, Senses: f.senses, Concepts: f.chosen, Reason: f.reason}
}

func (m *Mapper) mapSlow(n string) Mapping {
	switch k := utf8.RuneCountInString(n); {
	case n == "":
		return Mapping{Reason: ReasonEmpty}
	case k < MinRunes:
		return Mapping{Normal: n, Reason: ReasonTooShort}
	case k > MaxRunes:
		return Mapping{Normal: n, Reason: ReasonTooLong}
	}
	if f, via := m.morph(n); f != nil {
		return f.mapping(n, via)
	}
	// WordNet is ASCII: "café" and "pokémon" are found without their accents.
	if a, ok := stripAccents(n); ok && a != n {
		if f := m.forms[a]; f != nil {
			return f.mapping(n, ViaLemma)
		}
		if f, via := m.morph(a); f != nil {
			return f.mapping(n, via)
		}
		n2 := Mapping{Normal: n, Reason: ReasonUnknown}
		if m.notNoun(a) {
			n2.Reason = ReasonNotNoun
		}
		return n2
	}
	if m.notNoun(n) {
		return Mapping{Normal: n, Reason: ReasonNotNoun}
	}
	return Mapping{Normal: n, Reason: ReasonUnknown}
}

// morph finds the lemma of an inflected joined form the way morphy would:
// the exception list, then the detachment rules (which reduce the last word
// of a joined collocation), then the exception list on the last word.
func (m *Mapper) morph(n string) (*form, string) {
	for _, b := range m.exc[n] {
		if f := m.forms[b.joined]; f != nil {
			return f, ViaException
		}
	}
	for _, b := range wordnet.Detach(n, wordnet.Noun) {
		if f := m.forms[b]; f != nil {
			return f, ViaSuffix
		}
	}
	for i := 1; i+3 <= len(n); i++ {
		for _, b := range m.exc[n[i:]] {
			f := m.forms[n[:i]+b.joined]
			if f != nil && (strings.HasSuffix(f.lemma.Name, "_"+b.raw) || strings.HasSuffix(f.lemma.Name, "-"+b.raw)) {
				return f, ViaCompound
			}
		}
	}
	return nil, ""
}

func (m *Mapper) notNoun(n string) bool {
	other := m.otherForms()
	if _, ok := other[n]; ok {
		return true
	}
	for _, pos := range []wordnet.POS{wordnet.Verb, wordnet.Adj} {
		for _, b := range wordnet.Detach(n, pos) {
			if _, ok := other[b]; ok {
				return true
			}
		}
	}
	return false
}
