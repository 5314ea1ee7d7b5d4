package ingest

import "hash/maphash"

// idSet remembers the ids seen in one run by a 64-bit hash, 8 bytes plus
// map overhead per id instead of the id itself. A hash collision (about
// one in 10^7 runs of 10^6 ids) makes one record count as a duplicate.
type idSet struct {
	seed maphash.Seed
	m    map[uint64]struct{}
}

func newIDSet() *idSet { return &idSet{seed: maphash.MakeSeed(), m: map[uint64]struct{}{}} }

// add records id and reports whether it was new.
func (s *idSet) add(id string) bool {
	h := maphash.String(s.seed, id)
	if _, ok := s.m[h]; ok {
		return false
	}
	s.m[h] = struct{}{}
	return true
}
