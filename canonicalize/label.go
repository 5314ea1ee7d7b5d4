package canonicalize

import "sort"

// Labeler assigns vocabulary labels to images. It is safe for concurrent use.
type Labeler struct {
	m *Mapper
	v *Vocabulary
}

// NewLabeler labels with vocabulary v through mapper m.
func NewLabeler(m *Mapper, v *Vocabulary) *Labeler { return &Labeler{m: m, v: v} }

// Vocabulary returns the labeler's vocabulary.
func (l *Labeler) Vocabulary() *Vocabulary { return l.v }

// Label returns the ids of the vocabulary entries an image's hashtags stand
// for, ascending and without repeats; nil when none is in the vocabulary.
//
// A hashtag maps to its lemma (Mapper.Map). When vocabulary entries list the
// lemma's form as a member, the hashtag's candidates are those entries;
// otherwise they are the in-vocabulary concepts the sense policy picks. Under
// First the earliest candidate in the lemma's sense order is kept, under All
// every one, under DropAmbiguous one only if it is the only candidate.
func (l *Labeler) Label(hashtags []string) []int32 {
	var ids []int32
	for _, h := range hashtags {
		ids = l.appendLabels(ids, h)
	}
	if len(ids) < 2 {
		return ids
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := ids[:1]
	for _, id := range ids[1:] {
		if id != out[len(out)-1] {
			out = append(out, id)
		}
	}
	return out
}

func (l *Labeler) appendLabels(ids []int32, hashtag string) []int32 {
	mp := l.m.Map(hashtag)
	if mp.Lemma == nil {
		return ids
	}
	if members := l.v.MemberOf(mp.Form); len(members) > 0 {
		return append(ids, l.pick(members, mp.Senses)...)
	}
	for _, c := range mp.Concepts {
		if id, ok := l.v.BySynset(c.Synset); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// pick applies the policy to the entries listing a form, ranked by the
// lemma's sense order (entries of senses the lemma lacks last, by id).
func (l *Labeler) pick(members []int32, senses []*Concept) []int32 {
	if len(members) == 1 || l.m.policy == All {
		return members
	}
	if l.m.policy == DropAmbiguous {
		return nil
	}
	best, bestRank := members[0], len(senses)
	for _, id := range members {
		for r, c := range senses {
			if own, ok := l.v.BySynset(c.Synset); ok && own == id && r < bestRank {
				best, bestRank = id, r
			}
		}
	}
	return []int32{best}
}

// Tags returns the canonical tags of label ids.
func (l *Labeler) Tags(ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = l.v.Entries[id].Tag
	}
	return out
}
