package wordnet

import (
	"reflect"
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
			if got := db.MorphyPOS(tc.word, tc.pos); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: MorphyPOS(%q, %v) = %q, want %q", name, tc.word, tc.pos, got, tc.want)
			}
		}
		if got, want := db.Morphy("geese"), []string{"goose"}; !reflect.DeepEqual(got, want) {
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
			if got := db.Has(tc.word, tc.pos); got != tc.want {
				t.Errorf("%s: Has(%q, %v) = %v, want %v", name, tc.word, tc.pos, got, tc.want)
			}
		}
	}
}
