// Package torchtest is what the tests of packages that run libtorch share.
package torchtest

import (
	"testing"

	"weaksup/torch"
)

// Need fails the test, never skips it, when the libtorch shim cannot be
// loaded, and says how to build it.
func Need(tb testing.TB) {
	tb.Helper()
	if err := torch.Load(); err != nil {
		tb.Fatalf("libtorch shim not loadable (run `%s` first): %v", torch.BuildCommand, err)
	}
}
