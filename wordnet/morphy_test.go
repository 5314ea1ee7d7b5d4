package wordnet

import (
	"reflect"
	"strings"
	"testing"
)

func TestMorphy(t *testing.T) {
	tests := []struct {
		word string
		pos  POS
		want []string
	}{
		{"geese", Noun, []string{"goose"}},              // exception list
		{"mice", Noun, []string{"mouse"}},               // exception list
		{"dogs", Noun, []string{"dog"}},                 // s → ""
		{"buses", Noun, []string{"bus"}},                // ses → s
		{"boxes", Noun, []string{"box"}},                // xes → x
		{"churches", Noun, []string{"church"}},          // ches → ch
		{"firemen", Noun, []string{"fireman"}},          // men → man
		{"ponies", Noun, []string{"pony"}},              // ies → y
		{"boxesful", Noun, []string{"boxful"}},          // reduced before "ful"
		{"glasses", Noun, []string{"glasses", "glass"}}, // a lemma itself, and a plural
		{"data", Noun, []string{"data", "datum"}},
		{"dog", Noun, []string{"dog"}},
		{"grass", Noun, []string{"grass"}}, // "ss" is not stripped
		{"Brown Bears", Noun, []string{"brown_bear"}},
		{"attorneys general", Noun, []string{"attorney_general"}},
		{"happy", Noun, nil},
		{"xyzzyplughs", Noun, nil},
		{"as", Noun, []string{"as"}}, // two letters: rules not applied
		{"running", Verb, []string{"run"}},
		{"ran", Verb, []string{"run"}},
		{"happier", Adj, []string{"happy"}},
		{"", Noun, nil},
	}
	for name, db := range both(t) {
		for _, tc := range tests {
			if got := morphy(db, tc.word, tc.pos); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: morphy(%q, %v) = %q, want %q", name, tc.word, tc.pos, got, tc.want)
			}
		}
		if got, want := morphy(db, "geese", Noun), []string{"goose"}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Morphy(geese) = %q, want %q", name, got, want)
		}
	}
}

func TestHas(t *testing.T) {
	tests := []struct {
		word string
		pos  POS
		want bool
	}{
		{"dog", Noun, true},
		{"happy", Noun, false},
		{"happy", Adj, true},
		{"run", Verb, true},
		{"quickly", Adv, true},
		{"quickly", Verb, false},
	}
	for name, db := range both(t) {
		for _, tc := range tests {
			if got := has(db, tc.word, tc.pos); got != tc.want {
				t.Errorf("%s: has(%q, %v) = %v, want %v", name, tc.word, tc.pos, got, tc.want)
			}
		}
	}
}

// morphy returns the base forms of word that are lemmas of pos, as
// WordNet's morphy finds them: the word itself when it is a lemma, then the
// bases its exception list gives ("geese" → "goose"), then the results of the
// detachment rules ("buses" → "bus", "dogs" → "dog"). A collocation is also
// tried word by word ("attorneys general" → "attorney_general"). The forms are
// in index form (lower case, '_' between words); nil when there are none. For
// verbs, adjectives and adverbs it checks only the lemma lists, which is all
// this package reads of them. It is the reference the tests hold the
// pieces canonicalize builds its own morphy from (the exception lists,
// Detach, Has) to.
func morphy(db *DB, word string, pos POS) []string {
	if pos >= numPOS {
		return nil
	}
	word = Key(word)
	if word == "" {
		return nil
	}
	var out []string
	add := func(w string) {
		if !has(db, w, pos) {
			return
		}
		for _, o := range out {
			if o == w {
				return
			}
		}
		out = append(out, w)
	}
	add(word)
	for _, b := range db.exc[pos][word] {
		add(b)
	}
	for _, b := range detach(word, pos) {
		add(b)
	}
	if len(out) == 0 && strings.Contains(word, "_") {
		if w, ok := morphCollocation(db, word, pos); ok {
			add(w)
		}
	}
	return out
}

// morphCollocation reduces each word of a collocation on its own, keeping a
// word as it is when it has no base form, and checks the result.
func morphCollocation(db *DB, word string, pos POS) (string, bool) {
	parts := strings.Split(word, "_")
	changed := false
	for i, p := range parts {
		if p == "" {
			return "", false
		}
		if bases := db.exc[pos][p]; len(bases) > 0 {
			parts[i], changed = bases[0], true
			continue
		}
		if has(db, p, pos) {
			continue
		}
		for _, b := range detach(p, pos) {
			if has(db, b, pos) {
				parts[i], changed = b, true
				break
			}
		}
	}
	if !changed {
		return "", false
	}
	w := strings.Join(parts, "_")
	return w, has(db, w, pos)
}

// has says whether word is a lemma of the part of speech.
func has(db *DB, word string, pos POS) bool {
	key := Key(word)
	if pos == Noun {
		_, ok := db.byName[key]
		return ok
	}
	if pos >= numPOS {
		return false
	}
	_, ok := db.other[pos][key]
	return ok
}
