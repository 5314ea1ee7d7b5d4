package findings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/canonicalize"
	"weaksup/wordnet"
)

func testVocab(t *testing.T) *canonicalize.Vocabulary {
	t.Helper()
	// golden retriever, dog, love (an emotion), summer (a time period).
	v, err := canonicalize.NewVocabulary([]canonicalize.Entry{
		{ID: 0, Tag: "goldenretriever", WNID: "n02099601", Members: []string{"goldenretriever"}},
		{ID: 1, Tag: "dog", WNID: "n02084071", Members: []string{"dog"}},
		{ID: 2, Tag: "love", WNID: "n07543288", Members: []string{"love"}},
		{ID: 3, Tag: "summer", WNID: "n15237250", Members: []string{"summer"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// WordNet scores abstractions 0 and physical things by their depth, so a
// breed is more concrete than its genus.
func TestWordNetConcreteness(t *testing.T) {
	db, err := wordnet.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	c := WordNetConcreteness{Vocab: testVocab(t), DB: db}
	score := func(tag string) float64 {
		v, ok := c.Score(tag)
		if !ok {
			t.Fatalf("no score for %s", tag)
		}
		return v
	}
	breed, dog, love, summer := score("goldenretriever"), score("dog"), score("love"), score("summer")
	if love != 0 || summer != 0 {
		t.Errorf("love %v, summer %v: want 0 (not physical entities)", love, summer)
	}
	if dog < 5 || breed <= dog {
		t.Errorf("dog %v, golden retriever %v: want a deep physical synset and the breed deeper", dog, breed)
	}
	if _, ok := c.Score("nosuchtag"); ok {
		t.Error("a tag outside the vocabulary has a score")
	}
}

// Ratings come from a CSV with a header, matched through the synset's
// lemmas; a malformed row names the file and line.
func TestRatingsConcreteness(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "norms.csv")
	if err := os.WriteFile(path, []byte("Word,Conc.M\ngolden retriever,4.9\nLove,1.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ReadRatings(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := wordnet.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	c := RatingsConcreteness{Vocab: testVocab(t), DB: db, Ratings: r}
	if v, ok := c.Score("goldenretriever"); !ok || v != 4.9 {
		t.Errorf("goldenretriever = %v, %v; want 4.9 through its lemma", v, ok)
	}
	if v, ok := c.Score("love"); !ok || v != 1.5 {
		t.Errorf("love = %v, %v; want 1.5", v, ok)
	}
	if _, ok := c.Score("summer"); ok {
		t.Error("summer has a score but is not in the ratings")
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("word,score\ndog,4.8\ncat,high\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRatings(bad); err == nil || !strings.Contains(err.Error(), "bad.csv line 3") {
		t.Errorf("error %v, want one naming bad.csv line 3", err)
	}
}

// The matched vocabulary keeps the target classes and their WordNet
// neighbours, renumbered, and drops the rest.
func TestMatchedVocab(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "vocab.tsv")
	if err := testVocab(t).WriteFile(full); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "matched.tsv")
	if err := writeMatchedVocab(full, []string{"n02099601"}, out); err != nil {
		t.Fatal(err)
	}
	v, err := canonicalize.LoadVocabulary(out)
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, e := range v.Entries {
		tags = append(tags, e.Tag)
	}
	if strings.Join(tags, ",") != "goldenretriever,dog" {
		t.Errorf("matched vocabulary %v, want [goldenretriever dog]", tags)
	}
	if err := writeMatchedVocab(full, []string{"n01443537"}, out); err == nil {
		t.Error("no error for a target with nothing of it in the vocabulary")
	}
}
