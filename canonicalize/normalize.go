package canonicalize

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Length limits of a hashtag's normal form, in runes. Map reports a shorter
// one as too_short and a longer one as too_long; the longest WordNet 3.0 noun
// lemma is 61 runes written joined.
const (
	MinRunes = 2
	MaxRunes = 64
	// maxInputBytes bounds the work Normalize does on hostile input: a
	// longer hashtag is too_long whatever it normalizes to.
	maxInputBytes = 1024
)

// Normalize returns the normal form of a hashtag or lemma: Unicode NFKC,
// case-folded, with '#', separators (spaces, '_', '-' and other dashes, '.')
// apostrophes and invisible format characters (zero-width joiners, soft
// hyphens) removed. "#Brown_Bears" → "brownbears", "Ursus arctos" →
// "ursusarctos", "ＮＹＣ" → "nyc". The same function writes WordNet lemmas in
// joined form, so a hashtag and a lemma match when their normal forms are
// equal. It applies no length limits; see MinRunes and MaxRunes.
func Normalize(tag string) string {
	dirty := false
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		if c >= utf8.RuneSelf {
			return normalizeUnicode(tag)
		}
		if ('A' <= c && c <= 'Z') || isASCIIDrop(c) {
			dirty = true
		}
	}
	if !dirty {
		return tag
	}
	b := make([]byte, 0, len(tag))
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		switch {
		case isASCIIDrop(c):
		case 'A' <= c && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// appendNormalASCII appends the normal form of an ASCII hashtag to b; ok is
// false, and b unusable, when the hashtag is not ASCII or its normal form
// does not fit in b's capacity (it is then longer than MaxRunes when b holds
// MaxRunes).
func appendNormalASCII(b []byte, tag string) ([]byte, bool) {
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		switch {
		case c >= utf8.RuneSelf:
			return b, false
		case isASCIIDrop(c):
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if len(b) == cap(b) {
			return b, false
		}
		b = append(b, c)
	}
	return b, true
}

// stripAccents removes the combining marks of a normal form ("café" →
// "cafe"); ok is false when what is left is not ASCII, which no WordNet
// lemma would match.
func stripAccents(n string) (string, bool) {
	var b strings.Builder
	for _, r := range norm.NFD.String(n) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if r >= utf8.RuneSelf {
			return "", false
		}
		b.WriteRune(r)
	}
	return b.String(), true
}

// isASCIIDrop reports the ASCII bytes Normalize removes. Control characters
// go too: NFKC keeps them and a hashtag has no use for them.
func isASCIIDrop(c byte) bool {
	switch c {
	case '#', '_', '-', '.', '\'', ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return c < 0x20 || c == 0x7f
}

var folders = sync.Pool{New: func() any { c := cases.Fold(); return &c }}

func normalizeUnicode(tag string) string {
	s := norm.NFKC.String(strings.ToValidUTF8(tag, "\uFFFD"))
	f := folders.Get().(*cases.Caser)
	s = f.String(s)
	f.Reset()
	folders.Put(f)
	s = norm.NFKC.String(s) // folding can leave a string that is not NFKC
	dropped := strings.Map(func(r rune) rune {
		if dropRune(r) {
			return -1
		}
		return foldCherokee(r)
	}, s)
	if dropped == s {
		return s
	}
	// A removed separator can leave a mark next to a letter it composes with.
	return norm.NFKC.String(dropped)
}

// foldCherokee finishes case folding for Cherokee, which Unicode folds to
// the capital letters; x/text/cases folds the capitals to small letters
// instead, which would make Normalize flip-flop.
func foldCherokee(r rune) rune {
	switch {
	case 0xAB70 <= r && r <= 0xABBF:
		return r - 0xAB70 + 0x13A0
	case 0x13F8 <= r && r <= 0x13FD:
		return r - 8
	}
	return r
}

func dropRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIDrop(byte(r))
	}
	switch r {
	case '\u2019', '\u02bc', '\uff03': // right single quote, modifier apostrophe, fullwidth '#'
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || unicode.Is(unicode.Cf, r) || unicode.IsControl(r)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
