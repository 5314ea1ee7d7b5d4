package canonicalize

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"weaksup/wordnet"
)

var update = flag.Bool("update", false, "rewrite the expected columns of testdata/hashtags.txt")

var dirDB struct {
	once sync.Once
	db   *wordnet.DB
	err  error
}

// databases returns the installed WordNet 3.0 (wordnet-base, installed by
// `make deps`; WEAKSUP_WORDNET_DIR points elsewhere) and the embedded one.
func databases(t testing.TB) map[string]*wordnet.DB {
	dir := os.Getenv("WEAKSUP_WORDNET_DIR")
	if dir == "" {
		dir = "/usr/share/wordnet"
	}
	dirDB.once.Do(func() { dirDB.db, dirDB.err = wordnet.Open(dir) })
	if dirDB.err != nil {
		t.Fatalf("open WordNet 3.0 in %s (install wordnet-base: make deps): %v", dir, dirDB.err)
	}
	emb, err := wordnet.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*wordnet.DB{"dir": dirDB.db, "embedded": emb}
}

var mappers sync.Map // "name/policy" → *Mapper

func mappersFor(t testing.TB, p Policy) map[string]*Mapper {
	out := map[string]*Mapper{}
	for name, db := range databases(t) {
		key := fmt.Sprintf("%s/%v", name, p)
		m, ok := mappers.Load(key)
		if !ok {
			m, _ = mappers.LoadOrStore(key, NewMapper(db, p))
		}
		out[name] = m.(*Mapper)
	}
	return out
}

func embeddedMapper(t testing.TB, p Policy) *Mapper { return mappersFor(t, p)["embedded"] }

// The example: five spellings, one canonical tag, n02132136.
func TestBrownBear(t *testing.T) {
	for name, m := range mappersFor(t, First) {
		var tag string
		for _, h := range []string{"#brownbear", "#BrownBears", "#bruin", "#brown_bear", "#ursusarctos"} {
			mp := m.Map(h)
			if len(mp.Concepts) != 1 {
				t.Fatalf("%s: Map(%q) = %d concepts (%s), want 1", name, h, len(mp.Concepts), mp.Reason)
			}
			c := mp.Concepts[0]
			if got, want := c.WNID(), "n02132136"; got != want {
				t.Errorf("%s: Map(%q) wnid %s, want %s", name, h, got, want)
			}
			if tag == "" {
				tag = c.Tag
			}
			if c.Tag != tag {
				t.Errorf("%s: Map(%q) tag %q, want %q like the others", name, h, c.Tag, tag)
			}
		}
		if tag != "brownbear" {
			t.Errorf("%s: canonical tag %q, want brownbear (the synset's first lemma, joined)", name, tag)
		}
	}
}

func TestMapMorphy(t *testing.T) {
	tests := []struct{ hashtag, lemma, via string }{
		{"#geese", "goose", ViaException},
		{"#mice", "mouse", ViaException},
		{"#dogs", "dog", ViaSuffix},
		{"#buses", "bus", ViaSuffix},
		{"#BrownBears", "brown_bear", ViaSuffix},
		{"#snowgeese", "snow_goose", ViaCompound},
		{"#NewYork", "new_york", ViaLemma},
		{"#glasses", "glasses", ViaLemma},
	}
	for name, m := range mappersFor(t, First) {
		for _, tc := range tests {
			mp := m.Map(tc.hashtag)
			if mp.Lemma == nil || mp.Lemma.Name != tc.lemma || mp.Via != tc.via {
				t.Errorf("%s: Map(%q) lemma %v via %q, want %s via %s", name, tc.hashtag, mp.Lemma, mp.Via, tc.lemma, tc.via)
			}
		}
	}
}

func TestMapReasons(t *testing.T) {
	tests := []struct {
		hashtag string
		policy  Policy
		want    Reason
	}{
		{"#happy", First, ReasonNotNoun},     // adjective
		{"#beautiful", First, ReasonNotNoun}, // adjective
		{"#quickly", First, ReasonNotNoun},   // adverb
		{"#ran", First, ReasonNotNoun},       // verb exception list
		{"#happier", First, ReasonNotNoun},   // adjective, inflected
		{"#instagood", First, ReasonUnknown}, // not WordNet
		{"#photooftheday", First, ReasonUnknown},
		{"#a", First, ReasonTooShort},
		{"#", First, ReasonEmpty},
		{"#__", First, ReasonEmpty},
		{"#" + strings.Repeat("bear", 17), First, ReasonTooLong},
		{strings.Repeat("x", 5000), First, ReasonTooLong},
		{"#bruin", DropAmbiguous, ReasonAmbiguous},
		{"#bear", DropAmbiguous, ReasonAmbiguous},
		{"#brownbear", DropAmbiguous, ""},
		{"#bruin", First, ""},
	}
	for _, tc := range tests {
		for name, m := range mappersFor(t, tc.policy) {
			mp := m.Map(tc.hashtag)
			if mp.Reason != tc.want {
				t.Errorf("%s/%v: Map(%q) reason %q, want %q", name, tc.policy, tc.hashtag, mp.Reason, tc.want)
			}
			if mp.OK() != (tc.want == "") {
				t.Errorf("%s/%v: Map(%q).OK() = %v with reason %q", name, tc.policy, tc.hashtag, mp.OK(), mp.Reason)
			}
		}
	}
}

func TestPolicies(t *testing.T) {
	tests := []struct {
		hashtag string
		policy  Policy
		want    []string
	}{
		{"#bruin", First, []string{"n02132136"}},
		{"#bruin", All, []string{"n02132136", "n02132320"}},
		{"#bruin", DropAmbiguous, nil},
		{"#bear", First, []string{"n02131653"}}, // the tagged sense
		{"#bear", All, []string{"n02131653", "n09845191"}},
	}
	for _, tc := range tests {
		for name, m := range mappersFor(t, tc.policy) {
			var got []string
			for _, c := range m.Map(tc.hashtag).Concepts {
				got = append(got, c.WNID())
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("%s/%v: Map(%q) = %v, want %v", name, tc.policy, tc.hashtag, got, tc.want)
			}
		}
	}
}

// Lemmas that join alike: the literal spelling wins, then tagged senses,
// senses, name.
func TestJoinedFormCollisions(t *testing.T) {
	tests := []struct{ hashtag, lemma string }{
		{"#3D", "3d"},                   // "3-d" joins alike
		{"#runup", "runup"},             // "run-up" has more senses but is not literal
		{"#chin", "chin"},               // "ch'in"
		{"#builtinbed", "built-in_bed"}, // neither literal: same counts, smaller name
	}
	for name, m := range mappersFor(t, First) {
		if m.collisions == 0 {
			t.Errorf("%s: no joined-form collisions counted", name)
		}
		for _, tc := range tests {
			if mp := m.Map(tc.hashtag); mp.Lemma == nil || mp.Lemma.Name != tc.lemma {
				t.Errorf("%s: Map(%q) lemma %v, want %s", name, tc.hashtag, mp.Lemma, tc.lemma)
			}
		}
	}
}

var suffixedTag = regexp.MustCompile(`^(.+)_(n\d{8})$`)

func TestCanonicalTagsUnique(t *testing.T) {
	m := embeddedMapper(t, First)
	synsets := m.DB().Synsets()
	seen := map[string]string{}
	suffixed := 0
	for i := range synsets {
		c := m.Concept(&synsets[i])
		if prev, dup := seen[c.Tag]; dup {
			t.Fatalf("tag %q names %s and %s", c.Tag, prev, c.WNID())
		}
		seen[c.Tag] = c.WNID()
		if m.ConceptByTag(c.Tag) != c {
			t.Fatalf("ConceptByTag(%q) is not %s", c.Tag, c.WNID())
		}
		head := Normalize(c.Synset.Words[0].Lemma)
		if c.Tag == head {
			continue
		}
		sm := suffixedTag.FindStringSubmatch(c.Tag)
		if sm == nil || sm[1] != head || sm[2] != c.WNID() {
			t.Fatalf("tag %q of %s is neither %q nor %q", c.Tag, c.WNID(), head, head+"_"+c.WNID())
		}
		owner := m.ConceptByTag(head)
		if owner == nil || Normalize(owner.Synset.Words[0].Lemma) != head {
			t.Fatalf("tag %q: no synset owns the bare tag %q", c.Tag, head)
		}
		suffixed++
	}
	if suffixed == 0 {
		t.Error("no synsets share a head lemma")
	}
	// The bare tag goes to the sense the hashtag itself maps to.
	if c := m.Map("#bear").Concepts[0]; c.Tag != "bear" {
		t.Errorf("#bear maps to tag %q, want bear", c.Tag)
	}
	if c, _ := m.ConceptByWNID("n09845191"); c.Tag != "bear_n09845191" {
		t.Errorf("the investor sense of bear is tagged %q, want bear_n09845191", c.Tag)
	}
}

// TestHashtagTable runs testdata/hashtags.txt: policy and hashtag in, normal
// form, lemma, route, concepts and reason out, against both databases.
// Run with -update to rewrite the expected columns.
func TestHashtagTable(t *testing.T) {
	const path = "testdata/hashtags.txt"
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	f.Close()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var out []string
	rows := 0
	for n, line := range lines {
		if line == "" || strings.HasPrefix(line, "#\t") || strings.HasPrefix(line, "# ") {
			out = append(out, line)
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 2 {
			t.Fatalf("%s line %d: want policy<TAB>hashtag[<TAB>expected...]", path, n+1)
		}
		p, err := ParsePolicy(cols[0])
		if err != nil {
			t.Fatalf("%s line %d: %v", path, n+1, err)
		}
		rows++
		var got string
		for name, m := range mappersFor(t, p) {
			row := tableRow(cols[0], cols[1], m.Map(cols[1]))
			if got != "" && row != got {
				t.Errorf("%s line %d: databases disagree:\n%s\n%s", path, n+1, got, row)
			}
			if !*update && row != line {
				t.Errorf("%s line %d (%s):\n got  %q\n want %q", path, n+1, name, row, line)
			}
			got = row
		}
		out = append(out, got)
	}
	if rows < 30 {
		t.Errorf("%s has %d cases, want at least 30", path, rows)
	}
	if *update {
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func tableRow(policy, hashtag string, mp Mapping) string {
	lemma := "-"
	if mp.Lemma != nil {
		lemma = mp.Lemma.Name
	}
	var cs []string
	for _, c := range mp.Concepts {
		cs = append(cs, c.Tag+"="+c.WNID())
	}
	concepts := strings.Join(cs, ",")
	if concepts == "" {
		concepts = "-"
	}
	reason := string(mp.Reason)
	if reason == "" {
		reason = "ok"
	}
	via := mp.Via
	if via == "" {
		via = "-"
	}
	return strings.Join([]string{policy, hashtag, mp.Normal, lemma, via, concepts, reason}, "\t")
}

func FuzzMap(f *testing.F) {
	for _, s := range []string{"#BrownBears", "snowgeese", "#happy", "ＤＯＧ", "a\u0301", "xes", "ful", "sful"} {
		f.Add(s)
	}
	m := embeddedMapper(f, All)
	f.Fuzz(func(t *testing.T, h string) {
		mp := m.Map(h)
		if mp.OK() == (mp.Reason != "") {
			t.Fatalf("Map(%q): %d concepts with reason %q", h, len(mp.Concepts), mp.Reason)
		}
		if mp.OK() && (mp.Lemma == nil || len(mp.Senses) < len(mp.Concepts)) {
			t.Fatalf("Map(%q): concepts without lemma or senses", h)
		}
	})
}

// Map is safe for concurrent use, misses (which fill the memo) included.
func TestMapConcurrent(t *testing.T) {
	m := NewMapper(embeddedMapper(t, First).DB(), First)
	tags := []string{"#BrownBears", "#geese", "#happy", "#instagood", "#ＤＯＧＳ", "#bruin", "#snowgeese"}
	ref := embeddedMapper(t, First)
	want := make([]Mapping, len(tags))
	for i, h := range tags {
		want[i] = ref.Map(h)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				k := (i + g) % len(tags)
				if got := m.Map(tags[k]); got.Normal != want[k].Normal || got.Reason != want[k].Reason || len(got.Concepts) != len(want[k].Concepts) {
					t.Errorf("Map(%q) = %+v, want %+v", tags[k], got, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}
