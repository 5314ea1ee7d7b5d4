package wordnet

import "strings"

// Detachment rules of WordNet's morphy, per part of speech, in its order.
var suffixRules = [numPOS][][2]string{
	Noun: {{"s", ""}, {"ses", "s"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"}, {"men", "man"}, {"ies", "y"}},
	Verb: {{"s", ""}, {"ies", "y"}, {"es", "e"}, {"es", ""}, {"ed", "e"}, {"ed", ""}, {"ing", "e"}, {"ing", ""}},
	Adj:  {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}},
	Adv:  nil,
}

// Morphy returns the noun base forms of word that are noun lemmas, as
// WordNet's morphy finds them: the word itself when it is a lemma, then the
// bases its exception list gives ("geese" → "goose"), then the results of the
// detachment rules ("buses" → "bus", "dogs" → "dog"). A collocation is also
// tried word by word ("attorneys general" → "attorney_general"). The forms are
// in index form (lower case, '_' between words); nil when there are none.
func (db *DB) Morphy(word string) []string { return db.MorphyPOS(word, Noun) }

// MorphyPOS is Morphy for any part of speech; for verbs, adjectives and
// adverbs it checks only the lemma lists, which is all this package reads of
// them.
func (db *DB) MorphyPOS(word string, pos POS) []string {
	if pos >= numPOS {
		return nil
	}
	word = Key(word)
	if word == "" {
		return nil
	}
	var out []string
	add := func(w string) {
		if !db.Has(w, pos) {
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
		if w, ok := db.morphCollocation(word, pos); ok {
			add(w)
		}
	}
	return out
}

// Detach applies morphy's detachment rules for pos once and returns the
// candidate base forms, without checking that they are lemmas. Nouns ending
// in "ful" are reduced before the "ful" ("boxesful" → "boxful"); nouns ending
// in "ss" or of two letters or fewer are left alone.
func Detach(word string, pos POS) []string {
	if pos >= numPOS {
		return nil
	}
	return detach(word, pos)
}

func detach(word string, pos POS) []string {
	if pos == Noun {
		if strings.HasSuffix(word, "ful") {
			var out []string
			for _, b := range detach(strings.TrimSuffix(word, "ful"), pos) {
				out = append(out, b+"ful")
			}
			return out
		}
		if strings.HasSuffix(word, "ss") || len(word) <= 2 {
			return nil
		}
	}
	var out []string
	for _, r := range suffixRules[pos] {
		if strings.HasSuffix(word, r[0]) && len(word) > len(r[0]) {
			out = append(out, word[:len(word)-len(r[0])]+r[1])
		}
	}
	return out
}

// morphCollocation reduces each word of a collocation on its own, keeping a
// word as it is when it has no base form, and checks the result.
func (db *DB) morphCollocation(word string, pos POS) (string, bool) {
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
		if db.Has(p, pos) {
			continue
		}
		for _, b := range detach(p, pos) {
			if db.Has(b, pos) {
				parts[i], changed = b, true
				break
			}
		}
	}
	if !changed {
		return "", false
	}
	w := strings.Join(parts, "_")
	return w, db.Has(w, pos)
}
