package canonicalize

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"weaksup/wordnet"
)

// corpus is a generated set of image records whose hashtags are WordNet
// lemmas with a single noun sense, spelt the many ways people write
// hashtags, mixed with hashtags WordNet does not know as nouns. Truth holds
// each record's synsets, known from WordNet, not from the mapper.
type corpus struct {
	tags  [][]string
	truth []map[*wordnet.Synset]bool
}

var noiseTags = []string{"#instagood", "#photooftheday", "#nofilter", "#tbt", "#igers", "#picoftheday", "#happy", "#beautiful", "#cute", "#quickly", "#a", "#"}

func genCorpus(db *wordnet.DB, m *Mapper, records, concepts int, seed uint64) corpus {
	rng := rand.New(rand.NewPCG(seed, 17))
	// Synsets with their single-sense lemmas, in lemma order.
	lemmasOf := map[*wordnet.Synset][]string{}
	var synsets []*wordnet.Synset
	for _, l := range db.Lemmas() {
		if len(l.Synsets) != 1 || len(l.Name) < 3 || len(l.Name) > 40 {
			continue
		}
		if _, own := m.FormOf(l.Name); !own {
			continue
		}
		s := l.Synsets[0]
		if lemmasOf[s] == nil {
			synsets = append(synsets, s)
		}
		lemmasOf[s] = append(lemmasOf[s], l.Name)
	}
	rng.Shuffle(len(synsets), func(i, j int) { synsets[i], synsets[j] = synsets[j], synsets[i] })
	synsets = synsets[:concepts]
	// Zipf-like popularity: weight 1/rank.
	cum := make([]float64, len(synsets))
	total := 0.0
	for i := range synsets {
		total += 1 / math.Pow(float64(i+1), 1.05)
		cum[i] = total
	}
	c := corpus{tags: make([][]string, records), truth: make([]map[*wordnet.Synset]bool, records)}
	for r := 0; r < records; r++ {
		truth := map[*wordnet.Synset]bool{}
		n := 1 + rng.IntN(5)
		for k := 0; k < n; k++ {
			if rng.IntN(5) == 0 {
				c.tags[r] = append(c.tags[r], noiseTags[rng.IntN(len(noiseTags))])
				continue
			}
			i := sort.SearchFloat64s(cum, rng.Float64()*total)
			s := synsets[min(i, len(synsets)-1)]
			names := lemmasOf[s]
			c.tags[r] = append(c.tags[r], spell(rng, names[rng.IntN(len(names))]))
			truth[s] = true
		}
		c.truth[r] = truth
	}
	return c
}

// spell writes a lemma ("brown_bear") as a hashtag, one of several ways.
func spell(rng *rand.Rand, lemma string) string {
	words := strings.FieldsFunc(lemma, func(r rune) bool { return r == '_' || r == '-' })
	switch rng.IntN(5) {
	case 0:
		return "#" + strings.Join(words, "")
	case 1:
		for i, w := range words {
			if w != "" {
				words[i] = strings.ToUpper(w[:1]) + w[1:]
			}
		}
		return "#" + strings.Join(words, "")
	case 2:
		return "#" + strings.Join(words, "_")
	case 3:
		return strings.ToUpper(strings.Join(words, ""))
	}
	return "#" + strings.Join(words, "-")
}

func TestVocabularyOnCorpus(t *testing.T) {
	m := embeddedMapper(t, First)
	const records = 100_000
	c := genCorpus(m.DB(), m, records, 5000, 1)
	counter := NewCounter(m)
	for _, tags := range c.tags {
		counter.Add(tags)
	}
	if counter.Images() != records {
		t.Fatalf("counted %d images, want %d", counter.Images(), records)
	}
	// Expected images per synset, from the truth.
	want := map[*wordnet.Synset]int64{}
	for _, tr := range c.truth {
		for s := range tr {
			want[s]++
		}
	}
	for _, tc := range []struct {
		k        int
		minCount int64
		labels   bool // check every record's labels too
	}{{1000, 1, true}, {DefaultVocabSize, 1, false}, {DefaultVocabSize, 20, false}, {10, 1, true}} {
		v, err := counter.TopK(tc.k, tc.minCount)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			tag, wnid string
			n         int64
		}
		var rows []row
		for s, n := range want {
			if n >= tc.minCount {
				rows = append(rows, row{m.Concept(s).Tag, s.WNID(), n})
			}
		}
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].n != rows[j].n {
				return rows[i].n > rows[j].n
			}
			return rows[i].tag < rows[j].tag
		})
		if len(rows) > tc.k {
			rows = rows[:tc.k]
		}
		if v.Len() != len(rows) {
			t.Fatalf("k=%d min=%d: vocabulary of %d, want %d", tc.k, tc.minCount, v.Len(), len(rows))
		}
		for i, e := range v.Entries {
			if e.WNID != rows[i].wnid || e.Count != rows[i].n || e.Tag != rows[i].tag {
				t.Fatalf("k=%d min=%d: entry %d = %s %s %d, want %s %s %d", tc.k, tc.minCount, i, e.Tag, e.WNID, e.Count, rows[i].tag, rows[i].wnid, rows[i].n)
			}
			s, _ := m.DB().Synset(e.WNID)
			for _, f := range e.Members {
				if !hasForm(s, f) {
					t.Fatalf("entry %s lists member %q, not a lemma of %s", e.Tag, f, e.WNID)
				}
			}
		}
		if !tc.labels {
			continue
		}
		// Labels are the truth restricted to the vocabulary.
		lab := NewLabeler(m, v)
		var dropped int64
		for r, tags := range c.tags {
			got := lab.Label(tags)
			var exp []int32
			for s := range c.truth[r] {
				if id, ok := v.BySynset(s); ok {
					exp = append(exp, id)
				}
			}
			sort.Slice(exp, func(i, j int) bool { return exp[i] < exp[j] })
			if len(exp) == 0 {
				dropped++
			}
			if !equalIDs(got, exp) {
				t.Fatalf("k=%d record %d %q: labels %v, want %v", tc.k, r, tags, lab.Tags(got), lab.Tags(exp))
			}
		}
		t.Logf("k=%d min=%d: vocabulary %d, %d of %d records dropped", tc.k, tc.minCount, v.Len(), dropped, records)
	}
	// Noise hashtags are counted with their reasons.
	hs := counter.Hashtags()
	for h, want := range map[string]Reason{"instagood": ReasonUnknown, "happy": ReasonNotNoun, "a": ReasonTooShort, "": ReasonEmpty} {
		if hc := hs[h]; hc == nil || hc.Reason != want || hc.Images == 0 {
			t.Errorf("hashtag %q counted as %+v, want reason %q", h, hc, want)
		}
	}
}

func hasForm(s *wordnet.Synset, form string) bool {
	for _, w := range s.Words {
		if Normalize(w.Lemma) == form {
			return true
		}
	}
	return false
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
