package demo

import (
	"testing"

	"weaksup/canonicalize"
	"weaksup/wordnet"
)

// TestTagFormsCanonicalize checks the crawl's hashtags reach their concept
// through the canonicalizer the pipeline uses: every concept's commonest
// form does, and almost all of the tag mass does (the rest are plurals that
// are lemmas of their own, like "flies", which real crawls have too).
func TestTagFormsCanonicalize(t *testing.T) {
	db, err := wordnet.Embedded()
	if err != nil {
		t.Fatalf("load embedded wordnet: %v", err)
	}
	m := canonicalize.NewMapper(db, canonicalize.First)
	var right, total float64
	for _, c := range mustConcepts(t) {
		for i, f := range tagForms(c.lemmas) {
			mp := m.Map(f.Tag)
			ok := mp.OK() && mp.Concepts[0].WNID() == c.wnid
			total += f.Weight
			if ok {
				right += f.Weight
			}
			if i == 0 && !ok {
				t.Errorf("%s %s: commonest tag %q does not canonicalize to it (%v)", c.wnid, c.name(), f.Tag, mp.Reason)
			}
		}
	}
	if got := right / total; got < 0.98 {
		t.Errorf("%.3f of tag weight canonicalizes to the right concept, want at least 0.98", got)
	}
	for _, nv := range []string{"instagood", "photooftheday", "nofilter", "followme"} {
		if mp := m.Map(nv); mp.OK() {
			t.Errorf("non-visual tag %q maps to %v, want unmapped", nv, mp.Concepts[0].WNID())
		}
	}
}
