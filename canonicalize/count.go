package canonicalize

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Counter counts, over images, the concepts their hashtags map to (an image
// counts once per concept) and the hashtags themselves. It is not safe for
// concurrent use.
type Counter struct {
	m        *Mapper
	images   int64
	concepts map[*Concept]*conceptCount
	hashtags map[string]*HashtagCount
	seen     []*Concept
	normals  []string
	pairs    []conceptForm
}

type conceptForm struct {
	k    *Concept
	form string
}

type conceptCount struct {
	images int64
	forms  map[string]int64 // images per hashtag form
}

// HashtagCount is what a distinct normal form mapped to and how many images
// carry it.
type HashtagCount struct {
	Images int64
	Reason Reason // "" when mapped
}

// NewCounter starts counting with a mapper.
func NewCounter(m *Mapper) *Counter {
	return &Counter{m: m, concepts: map[*Concept]*conceptCount{}, hashtags: map[string]*HashtagCount{}}
}

// Add counts one image with its raw hashtags.
func (c *Counter) Add(hashtags []string) {
	c.images++
	c.seen, c.normals, c.pairs = c.seen[:0], c.normals[:0], c.pairs[:0]
	for _, h := range hashtags {
		mp := c.m.Map(h)
		if contains(c.normals, mp.Normal) {
			continue // "#Dog #dog" counts once
		}
		c.normals = append(c.normals, mp.Normal)
		hc := c.hashtags[mp.Normal]
		if hc == nil {
			hc = &HashtagCount{Reason: mp.Reason}
			c.hashtags[strings.Clone(mp.Normal)] = hc
		}
		hc.Images++
		for _, k := range mp.Concepts {
			cc := c.concepts[k]
			if cc == nil {
				cc = &conceptCount{forms: map[string]int64{}}
				c.concepts[k] = cc
			}
			if p := (conceptForm{k, mp.Form}); !containsPair(c.pairs, p) {
				c.pairs = append(c.pairs, p) // "#dog #dogs" is one image for the form dog
				cc.forms[mp.Form]++
			}
			if !containsConcept(c.seen, k) {
				c.seen = append(c.seen, k)
				cc.images++
			}
		}
	}
}

func containsPair(ps []conceptForm, p conceptForm) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

func containsConcept(cs []*Concept, c *Concept) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// Images is the number of images counted.
func (c *Counter) Images() int64 { return c.images }

// Hashtags returns every distinct normal form seen with its count.
func (c *Counter) Hashtags() map[string]*HashtagCount { return c.hashtags }

// Concepts returns how many distinct concepts were seen.
func (c *Counter) Concepts() int { return len(c.concepts) }

// TopK builds the vocabulary of the k concepts with the most images (at
// least minCount each), ids in that order, ties broken by tag. Members are
// the hashtag forms seen for each concept, most images first.
func (c *Counter) TopK(k int, minCount int64) (*Vocabulary, error) {
	type row struct {
		k  *Concept
		cc *conceptCount
	}
	rows := make([]row, 0, len(c.concepts))
	for k, cc := range c.concepts {
		if cc.images >= minCount && cc.images > 0 {
			rows = append(rows, row{k, cc})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].cc.images != rows[j].cc.images {
			return rows[i].cc.images > rows[j].cc.images
		}
		return rows[i].k.Tag < rows[j].k.Tag
	})
	if k >= 0 && len(rows) > k {
		rows = rows[:k]
	}
	entries := make([]Entry, len(rows))
	for i, r := range rows {
		entries[i] = Entry{ID: int32(i), Tag: r.k.Tag, WNID: r.k.WNID(), Count: r.cc.images, Members: sortedForms(r.cc.forms)}
	}
	return NewVocabulary(entries)
}

func sortedForms(forms map[string]int64) []string {
	out := make([]string, 0, len(forms))
	for f := range forms {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		if forms[out[i]] != forms[out[j]] {
			return forms[out[i]] > forms[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

//go:embed imagenet1k_wnids.txt
var imagenet1kWNIDs string

// ImageNet1kWNIDs returns the 1,000 ImageNet-1k (ILSVRC-2012) synsets in
// class-index order, from the copy embedded in the binary.
func ImageNet1kWNIDs() []string {
	ids, _ := ReadWNIDs(strings.NewReader(imagenet1kWNIDs), "imagenet1k_wnids.txt")
	return ids
}

// ReadWNIDs reads a list of wnids, one a line; blank lines and lines
// starting with '#' are skipped, and anything after the wnid on a line
// (a class name) is ignored.
func ReadWNIDs(r io.Reader, name string) ([]string, error) {
	sc := bufio.NewScanner(r)
	var out []string
	seen := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if !validWNID(f[0]) {
			return nil, fmt.Errorf("read wnids %s line %d: %q is not a wnid (n + 8 digits)", name, n, f[0])
		}
		if prev, dup := seen[f[0]]; dup {
			return nil, fmt.Errorf("read wnids %s line %d: %s already on line %d", name, n, f[0], prev)
		}
		seen[f[0]] = n
		out = append(out, f[0])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read wnids %s: %w", name, err)
	}
	return out, nil
}

// SynsetVocabulary builds a vocabulary of fixed synsets, ids in the order
// given, each with every hashtag form of the synset as members: its lemmas in
// joined form (for the ImageNet-1k synsets, the paper's ~1.5k hashtags).
// A form that another lemma owns (see NewMapper) is left out. Counts are 0.
func SynsetVocabulary(m *Mapper, wnids []string) (*Vocabulary, error) {
	entries := make([]Entry, len(wnids))
	for i, id := range wnids {
		k, err := m.ConceptByWNID(id)
		if err != nil {
			return nil, fmt.Errorf("build vocabulary entry %d: %w", i, err)
		}
		e := Entry{ID: int32(i), Tag: k.Tag, WNID: k.WNID()}
		for _, w := range k.Synset.Words {
			form, own := m.FormOf(w.Lemma)
			if own && !contains(e.Members, form) {
				e.Members = append(e.Members, form)
			}
		}
		entries[i] = e
	}
	return NewVocabulary(entries)
}
