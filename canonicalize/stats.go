package canonicalize

// Stats is what a canonicalize run did. The pipeline keeps it in the
// stage record.
type Stats struct {
	Records  int64 `json:"records"`  // ok records counted
	Labelled int64 `json:"labelled"` // records that kept at least one label
	Dropped  int64 `json:"dropped"`  // records left without an in-vocabulary tag (DropNoVocabTag)
	Vocab    int   `json:"vocab"`    // tags in the vocabulary
	Concepts int   `json:"concepts"` // distinct concepts the records' hashtags map to

	Hashtags int64            `json:"hashtags"`           // distinct hashtag normal forms
	Mapped   int64            `json:"mapped"`             // of those, mapped to a WordNet noun
	Unmapped map[Reason]int64 `json:"unmapped,omitempty"` // of those, not mapped, by reason
}

// newStats fills in what the counter and the vocabulary know.
func newStats(c *Counter, v *Vocabulary) *Stats {
	s := &Stats{Records: c.Images(), Vocab: v.Len(), Concepts: c.Concepts(), Unmapped: map[Reason]int64{}}
	for _, hc := range c.Hashtags() {
		s.Hashtags++
		if hc.Reason == "" {
			s.Mapped++
		} else {
			s.Unmapped[hc.Reason]++
		}
	}
	return s
}

// UnmappedTotal is the number of distinct hashtags that map to no concept.
func (s *Stats) UnmappedTotal() int64 {
	var n int64
	for _, c := range s.Unmapped {
		n += c
	}
	return n
}

// Counts flattens the stats for display: records, labelled, dropped, vocab,
// concepts, and, where not zero, hashtags, mapped, unmapped and
// unmapped_REASON.
func (s *Stats) Counts() map[string]int64 {
	if s == nil {
		return nil
	}
	c := map[string]int64{
		"records":  s.Records,
		"labelled": s.Labelled,
		"dropped":  s.Dropped,
		"vocab":    int64(s.Vocab),
		"concepts": int64(s.Concepts),
	}
	put := func(k string, v int64) {
		if v != 0 {
			c[k] = v
		}
	}
	put("hashtags", s.Hashtags)
	put("mapped", s.Mapped)
	put("unmapped", s.UnmappedTotal())
	for r, n := range s.Unmapped {
		put("unmapped_"+string(r), n)
	}
	return c
}
