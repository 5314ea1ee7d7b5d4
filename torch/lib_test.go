package torch

import "testing"

// TestShimChecksABIVersion: the loaded library hands out its table for the
// ABI version this package was compiled against and for no other, so a
// program and a shim built from different headers refuse each other.
func TestShimChecksABIVersion(t *testing.T) {
	needLib(t)
	if !acceptsABI(ABIVersion) {
		t.Fatalf("the library refuses ABI version %d, the one this package was compiled against", ABIVersion)
	}
	for _, v := range []int{ABIVersion - 1, ABIVersion + 1, 0} {
		if acceptsABI(v) {
			t.Errorf("the library accepts ABI version %d; it was built for %d", v, ABIVersion)
		}
	}
}
