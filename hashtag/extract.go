package hashtag

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// Extract returns the hashtags of a free-text caption in order of first
// appearance, without their '#' and in their original spelling. A hashtag is
// '#' (or the fullwidth '＃') followed by letters, marks, digits and '_',
// with at least one letter; a '#' right after a letter, digit, '_' or '&' or
// '/' ("C#", "&#39;", "page#2", "x.org/#top") starts none. Duplicates are
// kept once.
func Extract(caption string) []string {
	var out []string
	prev := ' '
	for i := 0; i < len(caption); {
		r, size := utf8.DecodeRuneInString(caption[i:])
		if (r == '#' || r == '＃') && !isTagRune(prev) && prev != '&' && prev != '/' {
			start := i + size
			end := start
			letter := false
			for end < len(caption) {
				q, n := utf8.DecodeRuneInString(caption[end:])
				if !isTagRune(q) {
					break
				}
				letter = letter || unicode.IsLetter(q)
				end += n
			}
			if letter && !slices.Contains(out, caption[start:end]) {
				out = append(out, caption[start:end])
			}
			if end > start {
				prev, _ = utf8.DecodeLastRuneInString(caption[start:end])
			} else {
				prev = r
			}
			i = end
			continue
		}
		prev = r
		i += size
	}
	return out
}

// isTagRune reports whether r can be part of a hashtag.
func isTagRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.M, r)
}
