// Package storetest is what the tests of packages that read and write the
// record store share.
package storetest

import (
	"testing"

	"weaksup/store"
	"weaksup/workdir"
)

// Open opens (creating it if need be) the record store of the working
// directory dir. The caller closes it: tests that kill and reopen a store
// decide when.
func Open(tb testing.TB, dir workdir.Dir) *store.Store {
	tb.Helper()
	st, err := store.Open(dir.Store())
	if err != nil {
		tb.Fatalf("open store of %s: %v", dir, err)
	}
	return st
}
