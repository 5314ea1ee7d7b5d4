package wordnet

import "strings"

// Detachment rules of WordNet's morphy, per part of speech, in its order.
var suffixRules = [numPOS][][2]string{
	Noun: {{"s", ""}, {"ses", "s"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"}, {"men", "man"}, {"ies", "y"}},
	Verb: {{"s", ""}, {"ies", "y"}, {"es", "e"}, {"es", ""}, {"ed", "e"}, {"ed", ""}, {"ing", "e"}, {"ing", ""}},
	Adj:  {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}},
	Adv:  nil,
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
