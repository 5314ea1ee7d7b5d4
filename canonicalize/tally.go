package canonicalize

import (
	"fmt"
	"strings"
)

// A Tally is a Counter's totals as flat keys, so that counters of parts of
// the records (one per worker bundle, say) can be summed key by key and
// turned back into one Counter with the same TopK vocabulary:
//
//	"i"                     images counted
//	"h" NUL normal NUL why  images carrying a hashtag normal form (why: its Reason)
//	"c" NUL tag             images of a concept (by its unique tag)
//	"f" NUL tag NUL form    images of a concept through a hashtag form
type Tally map[string]int64

const tallySep = "\x00"

// Tally returns the counter's totals.
func (c *Counter) Tally() Tally {
	t := Tally{"i": c.images}
	for n, hc := range c.hashtags {
		t["h"+tallySep+n+tallySep+string(hc.Reason)] += hc.Images
	}
	for k, cc := range c.concepts {
		t["c"+tallySep+k.Tag] += cc.images
		for f, n := range cc.forms {
			t["f"+tallySep+k.Tag+tallySep+f] += n
		}
	}
	return t
}

// AddTally adds one key of a Tally (summed over any number of counters
// with the same mapper) to c. It fails for a key it cannot read or a
// concept tag the mapper does not know.
func (c *Counter) AddTally(key string, n int64) error {
	parts := strings.Split(key, tallySep)
	concept := func() (*conceptCount, error) {
		k := c.m.ConceptByTag(parts[1])
		if k == nil {
			return nil, fmt.Errorf("add tally %q: no concept with tag %q", key, parts[1])
		}
		cc := c.concepts[k]
		if cc == nil {
			cc = &conceptCount{forms: map[string]int64{}}
			c.concepts[k] = cc
		}
		return cc, nil
	}
	switch {
	case parts[0] == "i" && len(parts) == 1:
		c.images += n
	case parts[0] == "h" && len(parts) == 3:
		hc := c.hashtags[parts[1]]
		if hc == nil {
			hc = &HashtagCount{Reason: Reason(parts[2])}
			c.hashtags[parts[1]] = hc
		}
		hc.Images += n
	case parts[0] == "c" && len(parts) == 2:
		cc, err := concept()
		if err != nil {
			return err
		}
		cc.images += n
	case parts[0] == "f" && len(parts) == 3:
		cc, err := concept()
		if err != nil {
			return err
		}
		cc.forms[parts[2]] += n
	default:
		return fmt.Errorf("add tally %q: not a tally key", key)
	}
	return nil
}
