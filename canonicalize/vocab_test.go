package canonicalize

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sampleVocab(t *testing.T) *Vocabulary {
	t.Helper()
	v, err := NewVocabulary([]Entry{
		{ID: 0, Tag: "brownbear", WNID: "n02132136", Count: 12, Members: []string{"brownbear", "bruin", "ursusarctos"}},
		{ID: 1, Tag: "dog", WNID: "n02084071", Count: 7, Members: []string{"dog"}},
		{ID: 2, Tag: "goose", WNID: "n01855672", Count: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVocabularyRoundTrip(t *testing.T) {
	v := sampleVocab(t)
	path := filepath.Join(t.TempDir(), "vocab.tsv")
	if err := v.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadVocabulary(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Entries, v.Entries) {
		t.Errorf("round trip:\n got  %+v\n want %+v", back.Entries, v.Entries)
	}
	if back.Hash() != v.Hash() {
		t.Errorf("hash changed on round trip")
	}
	var buf bytes.Buffer
	if err := v.Write(&buf); err != nil {
		t.Fatal(err)
	}
	want := VocabHeader + "\n0\tbrownbear\tn02132136\t12\tbrownbear,bruin,ursusarctos\n1\tdog\tn02084071\t7\tdog\n2\tgoose\tn01855672\t0\t\n"
	if buf.String() != want {
		t.Errorf("vocab.tsv:\n got  %q\n want %q", buf.String(), want)
	}
	if e, ok := back.ByTag("dog"); !ok || e.WNID != "n02084071" {
		t.Errorf("ByTag(dog) = %+v, %v", e, ok)
	}
	if e, ok := entryOf(back, "n02132136"); !ok || e.ID != 0 {
		t.Errorf("entry of n02132136 = %+v, %v", e, ok)
	}
	if got := back.MemberOf("bruin"); !reflect.DeepEqual(got, []int32{0}) {
		t.Errorf("MemberOf(bruin) = %v", got)
	}
}

func TestVocabularyTop(t *testing.T) {
	v, err := NewVocabulary([]Entry{
		{ID: 0, Tag: "a", WNID: "n00000001", Count: 5},
		{ID: 1, Tag: "b", WNID: "n00000002", Count: 9},
		{ID: 2, Tag: "c", WNID: "n00000003", Count: 5},
		{ID: 3, Tag: "d", WNID: "n00000004", Count: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(es []Entry) []int32 {
		var out []int32
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	for _, tc := range []struct {
		n    int
		want []int32
	}{{2, []int32{1, 0}}, {3, []int32{1, 0, 2}}, {10, []int32{1, 0, 2, 3}}, {-1, []int32{1, 0, 2, 3}}, {0, nil}} {
		if got := ids(v.Top(tc.n)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Top(%d) ids = %v, want %v", tc.n, got, tc.want)
		}
	}
	if v.Entries[1].ID != 1 {
		t.Errorf("Top reordered the vocabulary")
	}
}

func TestVocabularyHash(t *testing.T) {
	a := sampleVocab(t)
	b := sampleVocab(t)
	b.SetCounts([]int64{1, 2, 3})
	b.Entries[0].Members = nil
	if a.Hash() != b.Hash() {
		t.Error("counts or members changed the hash")
	}
	if !strings.HasPrefix(a.Hash(), "sha256:") || len(a.Hash()) != len("sha256:")+64 {
		t.Errorf("hash %q, want sha256:<64 hex>", a.Hash())
	}
	c, err := NewVocabulary([]Entry{
		{ID: 0, Tag: "dog", WNID: "n02084071"},
		{ID: 1, Tag: "brownbear", WNID: "n02132136"},
		{ID: 2, Tag: "goose", WNID: "n01855672"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Hash() == a.Hash() {
		t.Error("reordered ids kept the hash")
	}
}

func TestReadVocabularyErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"header", "id\ttag\n0\tdog\tn02084071\t1\t\n", "line 1"},
		{"fields", VocabHeader + "\n0\tdog\tn02084071\t1\n", "line 2"},
		{"id", VocabHeader + "\nx\tdog\tn02084071\t1\t\n", "line 2"},
		{"count", VocabHeader + "\n0\tdog\tn02084071\tmany\t\n", "line 2"},
		{"id order", VocabHeader + "\n1\tdog\tn02084071\t1\t\n", "ids must be"},
		{"wnid", VocabHeader + "\n0\tdog\t02084071\t1\t\n", "wnid"},
		{"dup tag", VocabHeader + "\n0\tdog\tn02084071\t1\t\n1\tdog\tn02084072\t1\t\n", "twice"},
		{"dup wnid", VocabHeader + "\n0\tdog\tn02084071\t1\t\n1\tcat\tn02084071\t1\t\n", "twice"},
		{"empty", "", "empty"},
	}
	for _, tc := range tests {
		_, err := ReadVocabulary(strings.NewReader(tc.text), "v.tsv")
		if err == nil || !errors.Is(err, ErrVocab) && tc.name != "empty" || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "v.tsv") {
			t.Errorf("%s: got %v, want an error naming v.tsv and %q", tc.name, err, tc.want)
		}
	}
}

func TestVocabularyCheck(t *testing.T) {
	m := embeddedMapper(t, First)
	if err := sampleVocab(t).Check(m); err != nil {
		t.Errorf("Check: %v", err)
	}
	bad, err := NewVocabulary([]Entry{{ID: 0, Tag: "cat", WNID: "n02084071"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Check(m); err == nil || !strings.Contains(err.Error(), `"dog"`) {
		t.Errorf("Check(cat=n02084071) = %v, want a tag mismatch naming dog", err)
	}
	missing, err := NewVocabulary([]Entry{{ID: 0, Tag: "x", WNID: "n99999999"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := missing.Check(m); err == nil {
		t.Error("Check accepted a wnid WordNet lacks")
	}
}

func TestImageNet1kVocabulary(t *testing.T) {
	wnids := ImageNet1kWNIDs()
	if len(wnids) != 1000 || wnids[0] != "n01440764" {
		t.Fatalf("embedded ImageNet-1k list: %d wnids starting %v", len(wnids), wnids[:1])
	}
	for name, m := range mappersFor(t, First) {
		v, err := SynsetVocabulary(m, wnids)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		members := 0
		for _, e := range v.Entries {
			if len(e.Members) == 0 {
				t.Errorf("%s: %s (%s) has no hashtag form", name, e.Tag, e.WNID)
			}
			members += len(e.Members)
		}
		// The paper's ImageNet-1k-matched set has about 1.5k hashtags.
		if members < 1400 || members > 2000 {
			t.Errorf("%s: %d hashtag forms for the 1,000 synsets, want about 1.5k", name, members)
		}
		t.Logf("%s: %d hashtag forms", name, members)
		lab := NewLabeler(m, v)
		// Both crane senses are ImageNet classes; "first" keeps the bird.
		crane := lab.Label([]string{"#crane"})
		if got := lab.Tags(crane); len(got) != 1 || v.Entries[crane[0]].WNID != "n02012849" {
			t.Errorf("%s: #crane labelled %v, want the bird n02012849", name, got)
		}
		if got := lab.Tags(lab.Label([]string{"#goldfish", "#Goldfishes", "#carassiusauratus", "#selfie"})); !reflect.DeepEqual(got, []string{"goldfish"}) {
			t.Errorf("%s: goldfish hashtags labelled %v", name, got)
		}
	}
	_, err := ReadWNIDs(strings.NewReader("n01440764\nn0144076\n"), "w.txt")
	if err == nil || !strings.Contains(err.Error(), "w.txt line 2") {
		t.Errorf("ReadWNIDs(bad) = %v, want an error naming w.txt line 2", err)
	}
}

func TestCounter(t *testing.T) {
	m := embeddedMapper(t, First)
	c := NewCounter(m)
	c.Add([]string{"#dog", "#Dog", "#dogs", "#bruin", "#brownbear", "#happy"})
	c.Add([]string{"#dogs", "#instagood"})
	c.Add(nil)
	if c.Images() != 3 || c.Concepts() != 2 {
		t.Errorf("%d images, %d concepts; want 3 and 2", c.Images(), c.Concepts())
	}
	v, err := c.TopK(10, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range v.Entries {
		got = append(got, fmt.Sprintf("%s %d %v", e.Tag, e.Count, e.Members))
	}
	// dog: 2 images, all through the form dog; brown bear: 1 image, through
	// the forms brownbear and bruin (ties by name).
	want := []string{"dog 2 [dog]", "brownbear 1 [brownbear bruin]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TopK:\n got  %q\n want %q", got, want)
	}
	hs := c.Hashtags()
	if hs["dog"].Images != 1 || hs["dogs"].Images != 2 || hs["happy"].Reason != ReasonNotNoun {
		t.Errorf("hashtag counts: dog %+v dogs %+v happy %+v", hs["dog"], hs["dogs"], hs["happy"])
	}
}

func FuzzReadVocabulary(f *testing.F) {
	f.Add(VocabHeader + "\n0\tbrownbear\tn02132136\t12\tbrownbear,bruin\n1\tdog\tn02084071\t7\t\n")
	f.Add(VocabHeader + "\n0\tx\tn00000001\t-1\t,\n")
	f.Fuzz(func(t *testing.T, text string) {
		v, err := ReadVocabulary(strings.NewReader(text), "fuzz.tsv")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := v.Write(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := ReadVocabulary(&buf, "again.tsv")
		if err != nil {
			t.Fatalf("rereading written vocabulary: %v", err)
		}
		if back.Hash() != v.Hash() {
			t.Fatal("hash changed on rewrite")
		}
	})
}

// entryOf returns the vocabulary entry of a synset.
func entryOf(v *Vocabulary, wnid string) (*Entry, bool) {
	id, ok := v.byWNID[wnid]
	if !ok {
		return nil, false
	}
	return &v.Entries[id], true
}
