package ingest

import "weaksup/hashtag"

// recordTags merges the input's tags with the hashtags of its caption
// (hashtag.Extract), keeping the first of exact repeats.
func recordTags(in Input) []string {
	tags := append([]string(nil), in.Tags...)
	tags = append(tags, hashtag.Extract(in.Caption)...)
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
