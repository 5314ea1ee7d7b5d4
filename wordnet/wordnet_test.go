package wordnet

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// wordnetDir is the installed WordNet 3.0 (Debian's wordnet-base, which
// `make deps` installs); WEAKSUP_WORDNET_DIR points elsewhere.
func wordnetDir(t testing.TB) string {
	dir := os.Getenv("WEAKSUP_WORDNET_DIR")
	if dir == "" {
		dir = "/usr/share/wordnet"
	}
	if _, err := os.Stat(dir + "/data.noun"); err != nil {
		t.Fatalf("WordNet 3.0 database not found (install wordnet-base: make deps, or set WEAKSUP_WORDNET_DIR): %v", err)
	}
	return dir
}

var dirDB struct {
	once sync.Once
	db   *DB
	err  error
}

func openDir(t testing.TB) *DB {
	dir := wordnetDir(t)
	dirDB.once.Do(func() { dirDB.db, dirDB.err = Open(dir) })
	if dirDB.err != nil {
		t.Fatal(dirDB.err)
	}
	return dirDB.db
}

func openEmbedded(t testing.TB) *DB {
	db, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// both returns the installed and the embedded database, which every
// behavioural test runs against.
func both(t *testing.T) map[string]*DB {
	return map[string]*DB{"dir": openDir(t), "embedded": openEmbedded(t)}
}

func wnids(ss []*Synset) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.WNID()
	}
	return out
}

func TestEmbeddedMatchesDir(t *testing.T) {
	if d := diffDB(openDir(t), openEmbedded(t)); d != "" {
		t.Fatalf("embedded database differs from %s (run go generate ./wordnet): %s", wordnetDir(t), d)
	}
	db := openEmbedded(t)
	if got, want := len(db.Synsets()), 82115; got != want {
		t.Errorf("WordNet 3.0 noun synsets: got %d, want %d", got, want)
	}
	if got, want := len(db.Lemmas()), 117798; got != want {
		t.Errorf("WordNet 3.0 noun lemmas: got %d, want %d", got, want)
	}
}

// diffDB describes the first difference between two databases, or "".
func diffDB(a, b *DB) string {
	if len(a.synsets) != len(b.synsets) {
		return fmt.Sprintf("%d synsets vs %d", len(a.synsets), len(b.synsets))
	}
	for i := range a.synsets {
		x, y := &a.synsets[i], &b.synsets[i]
		if x.Index() != i || y.Index() != i {
			return fmt.Sprintf("synset %d: index %d vs %d", i, x.Index(), y.Index())
		}
		if x.Offset != y.Offset || x.LexFile != y.LexFile || x.Gloss != y.Gloss || !reflect.DeepEqual(x.Words, y.Words) {
			return fmt.Sprintf("synset %d: %+v vs %+v", i, *x, *y)
		}
		if len(x.Pointers) != len(y.Pointers) {
			return fmt.Sprintf("synset %s: %d pointers vs %d", x.WNID(), len(x.Pointers), len(y.Pointers))
		}
		for k := range x.Pointers {
			p, q := x.Pointers[k], y.Pointers[k]
			if p.Kind != q.Kind || p.Target.Offset != q.Target.Offset {
				return fmt.Sprintf("synset %s pointer %d: %v %s vs %v %s", x.WNID(), k, p.Kind, p.Target, q.Kind, q.Target)
			}
		}
	}
	if len(a.lemmas) != len(b.lemmas) || len(a.byName) != len(b.byName) {
		return fmt.Sprintf("%d lemmas vs %d", len(a.lemmas), len(b.lemmas))
	}
	for i := range a.lemmas {
		x, y := a.lemmas[i], b.lemmas[i]
		if x.Name != y.Name || x.TaggedSenses != y.TaggedSenses || !reflect.DeepEqual(wnids(x.Synsets), wnids(y.Synsets)) {
			return fmt.Sprintf("lemma %d: %s %d %v vs %s %d %v", i, x.Name, x.TaggedSenses, wnids(x.Synsets), y.Name, y.TaggedSenses, wnids(y.Synsets))
		}
		if b.byName[x.Name] != y {
			return fmt.Sprintf("lemma %q not indexed", x.Name)
		}
	}
	for pos := Noun; pos < numPOS; pos++ {
		if !reflect.DeepEqual(a.exc[pos], b.exc[pos]) {
			return fmt.Sprintf("%v exceptions differ (%d vs %d)", pos, len(a.exc[pos]), len(b.exc[pos]))
		}
		if !reflect.DeepEqual(a.other[pos], b.other[pos]) {
			return fmt.Sprintf("%v lemma sets differ (%d vs %d)", pos, len(a.other[pos]), len(b.other[pos]))
		}
	}
	return ""
}

func TestLookup(t *testing.T) {
	tests := []struct {
		word  string
		wnids []string
	}{
		{"brown_bear", []string{"n02132136"}},
		{"Brown Bear", []string{"n02132136"}},
		{"ursus arctos", []string{"n02132136"}},
		{"bruin", []string{"n02132320", "n02132136"}},
		{"New York", []string{"n09119277", "n09117351", "n09118181"}},
		{"bear", []string{"n02131653", "n09845191"}},
		{"goose", []string{"n01855672", "n10157744", "n07646821"}},
		{"geese", nil}, // inflected: only through Morphy
		{"happy", nil}, // not a noun
		{"xyzzyplugh", nil},
		{"", nil},
	}
	for name, db := range both(t) {
		for _, tc := range tests {
			if got := wnids(db.Lookup(tc.word)); !reflect.DeepEqual(got, tc.wnids) && (len(got) != 0 || len(tc.wnids) != 0) {
				t.Errorf("%s: Lookup(%q) = %v, want %v", name, tc.word, got, tc.wnids)
			}
		}
	}
}

func TestSynset(t *testing.T) {
	for name, db := range both(t) {
		s, err := db.Synset("n02132136")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got, want := s.Lemmas(), []string{"brown bear", "bruin", "Ursus arctos"}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: lemmas %v, want %v", name, got, want)
		}
		if got, want := s.Gloss, "large ferocious bear of Eurasia"; got != want {
			t.Errorf("%s: gloss %q, want %q", name, got, want)
		}
		if got, want := s.LexFileName(), "noun.animal"; got != want {
			t.Errorf("%s: lex file %q, want %q", name, got, want)
		}
		if got, want := wnids(s.Hypernyms()), []string{"n02131653"}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: hypernyms %v, want %v", name, got, want)
		}
		if got, want := wnids(s.Hyponyms()), []string{"n02132466", "n02132580", "n02132788"}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: hyponyms %v, want %v", name, got, want)
		}
		// Instance hypernyms: New York City is an instance of city.
		nyc, err := db.Synset("n09119277")
		if err != nil {
			t.Fatal(err)
		}
		if got := wnids(nyc.Related(InstanceHypernym)); len(got) == 0 {
			t.Errorf("%s: %s has no instance hypernym", name, nyc)
		}
		for _, bad := range []string{"n0213213", "x02132136", "n0213213a", "n99999999"} {
			if _, err := db.Synset(bad); err == nil {
				t.Errorf("%s: Synset(%q) gave no error", name, bad)
			}
		}
	}
}

func TestRanked(t *testing.T) {
	for name, db := range both(t) {
		tests := []struct {
			lemma string
			want  []string
		}{
			// No tagged senses: lexicographer order, brown bear before the fable name.
			{"bruin", []string{"n02132136", "n02132320"}},
			// One tagged sense stays first.
			{"bear", []string{"n02131653", "n09845191"}},
			{"brown_bear", []string{"n02132136"}},
		}
		for _, tc := range tests {
			l := db.Lemma(tc.lemma)
			if l == nil {
				t.Fatalf("%s: no lemma %q", name, tc.lemma)
			}
			if got := wnids(l.Ranked()); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: %s.Ranked() = %v, want %v", name, tc.lemma, got, tc.want)
			}
		}
	}
}

// WordNet 3.0 lists the senses without tag counts in descending offset order;
// Ranked relies on that order carrying no information.
func TestUntaggedSensesDescend(t *testing.T) {
	db := openDir(t)
	n := 0
	for _, l := range db.Lemmas() {
		rest := l.Synsets[l.TaggedSenses:]
		for i := 1; i < len(rest); i++ {
			if rest[i-1].Offset < rest[i].Offset {
				t.Fatalf("%s: untagged senses %v not in descending offset order", l.Name, wnids(rest))
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no lemma with two untagged senses")
	}
}

func TestKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Brown Bear", "brown_bear"},
		{"brown_bear", "brown_bear"},
		{"  dog ", "dog"},
		{"Ursus_arctos", "ursus_arctos"},
	}
	for _, tc := range tests {
		if got := Key(tc.in); got != tc.want {
			t.Errorf("Key(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseWNID(t *testing.T) {
	if got, err := ParseWNID("n02132136"); err != nil || got != 2132136 {
		t.Errorf("ParseWNID(n02132136) = %d, %v", got, err)
	}
	s := &Synset{Offset: 1740}
	if got, want := s.WNID(), "n00001740"; got != want {
		t.Errorf("WNID() = %q, want %q", got, want)
	}
	if !strings.HasPrefix(Noun.String(), "noun") || Hyponym.String() != "~" {
		t.Errorf("String names: %v %v", Noun, Hyponym)
	}
}
