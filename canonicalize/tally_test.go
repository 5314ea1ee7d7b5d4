package canonicalize

import (
	"bytes"
	"testing"
)

// Counters of parts of the records, tallied, summed and added back into
// one counter give the vocabulary one counter over all records gives, byte
// for byte.
func TestTallySumsParts(t *testing.T) {
	m := embeddedMapper(t, First)
	images := [][]string{
		{"BrownBears", "dogs", "#dog"}, {"bruin"}, {"dog", "puppy"}, {"goldfish", "nofilter"},
		{"cat", "cats", "kitty"}, {"dog"}, {"happy"}, {"brown_bear", "cat"}, {"goldfish"},
	}
	whole := NewCounter(m)
	parts := []*Counter{NewCounter(m), NewCounter(m), NewCounter(m)}
	for i, tags := range images {
		whole.Add(tags)
		parts[i%3].Add(tags)
	}
	sum := Tally{}
	for _, p := range parts {
		for k, n := range p.Tally() {
			sum[k] += n
		}
	}
	merged := NewCounter(m)
	for k, n := range sum {
		if err := merged.AddTally(k, n); err != nil {
			t.Fatal(err)
		}
	}
	if merged.Images() != whole.Images() || merged.Concepts() != whole.Concepts() || len(merged.Hashtags()) != len(whole.Hashtags()) {
		t.Fatalf("merged counter: %d images %d concepts %d hashtags, want %d %d %d", merged.Images(), merged.Concepts(),
			len(merged.Hashtags()), whole.Images(), whole.Concepts(), len(whole.Hashtags()))
	}
	var a, b bytes.Buffer
	for c, buf := range map[*Counter]*bytes.Buffer{whole: &a, merged: &b} {
		v, err := c.TopK(3, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	if a.String() != b.String() {
		t.Errorf("vocabulary from the summed tallies:\n%s\nwant:\n%s", b.String(), a.String())
	}
	if err := merged.AddTally("x\x00y", 1); err == nil {
		t.Error("AddTally of a bad key: no error")
	}
}
