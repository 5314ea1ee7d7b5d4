package ingest

import (
	"unicode"
	"unicode/utf8"
)

// extractHashtags returns the hashtags of a caption in order of
// appearance, original spelling, without '#'. A hashtag starts with '#'
// not preceded by a letter or digit and runs over letters, digits, marks
// and underscores.
func extractHashtags(caption string) []string {
	var out []string
	for i := 0; i < len(caption); i++ {
		if caption[i] != '#' {
			continue
		}
		if i > 0 {
			r, _ := utf8.DecodeLastRuneInString(caption[:i])
			if isTagRune(r) || r == '&' {
				continue
			}
		}
		j := i + 1
		for j < len(caption) {
			r, n := utf8.DecodeRuneInString(caption[j:])
			if !isTagRune(r) {
				break
			}
			j += n
		}
		if j > i+1 {
			out = append(out, caption[i+1:j])
		}
		i = j - 1
	}
	return out
}

func isTagRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// recordTags merges the input's tags with the hashtags of its caption,
// keeping the first of exact repeats.
func recordTags(in Input) []string {
	tags := append([]string(nil), in.Tags...)
	tags = append(tags, extractHashtags(in.Caption)...)
	seen := make(map[string]bool, len(tags))
	out := tags[:0]
	for _, t := range tags {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
