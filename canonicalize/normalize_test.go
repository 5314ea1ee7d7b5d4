package canonicalize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"#BrownBears", "brownbears"},
		{"#brown_bear", "brownbear"},
		{"brown-bear", "brownbear"},
		{"Brown Bear", "brownbear"},
		{"u.s.a.", "usa"},
		{"Ursus_arctos", "ursusarctos"},
		{"St._John's_wort", "stjohnswort"},
		{"brownbear", "brownbear"},
		{"ＢｒｏｗｎＢｅａｒ", "brownbear"}, // fullwidth → NFKC
		{"＃ｄｏｇ", "dog"},
		{"Straße", "strasse"}, // full case folding
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ"},
		{"café", "café"},
		{"cafe\u0301", "café"},       // combining accent composed
		{"ﬁsh", "fish"},              // ligature
		{"new\u2013york", "newyork"}, // en dash
		{"rock\u2019n\u2019roll", "rocknroll"},
		{"zero\u200bwidth", "zerowidth"},
		{"tab\there", "tabhere"},
		{"東京", "東京"},
		{"Ꮙꮙ", "ᏉᏉ"}, // Cherokee folds to capitals
		{"#", ""},
		{"", ""},
		{"__--..", ""},
		{"DOG", "dog"},
		{"dog2018", "dog2018"},
	}
	for _, tc := range tests {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"#BrownBears", "Straße", "ＮＹＣ", "new\u2013york", "ﬁsh", "a\u0301", "\xff", "ǅ", "ß_ẞ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if again := Normalize(n); again != n {
			t.Fatalf("Normalize not idempotent on %q: %q then %q", s, n, again)
		}
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q is not UTF-8", s, n)
		}
		if strings.ContainsAny(n, "#_-. \t\n'") {
			t.Fatalf("Normalize(%q) = %q keeps a separator", s, n)
		}
		ascii := true
		for i := 0; i < len(s); i++ {
			ascii = ascii && s[i] < utf8.RuneSelf
		}
		if ascii {
			if slow := normalizeUnicode(s); slow != n {
				t.Fatalf("ASCII fast path %q differs from the Unicode path %q for %q", n, slow, s)
			}
		}
	})
}
