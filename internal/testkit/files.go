package testkit

import (
	"os"
	"testing"
)

// ReadFile returns the contents of path and fails the test when it cannot
// be read.
func ReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
