package resnets

import (
	"strings"
	"testing"
)

// TestDegradationWeighsMeasurementNoise checks the depth experiment's
// finding: a deeper net that ends with a higher training error than the
// shallower one is degradation only when the gap is outside two standard
// errors of the measurement on n images.
func TestDegradationWeighsMeasurementNoise(t *testing.T) {
	net := func(label string, depth int, trainErr float64, status string) NetResult {
		return NetResult{Net: Net{Label: label}, Depth: depth, Status: status,
			Curve: []EpochPoint{{Epoch: 1, TrainError: 0.9}, {Epoch: 2, TrainError: trainErr}}}
	}
	tests := []struct {
		name      string
		deep      NetResult
		shallow   float64
		n         int
		want, not string
	}{
		// 2·√(.886·.114/500 + .66·.34/500) = 5.1 points; the gap is 22.6.
		{"clear gap", net("plain-56", 56, 0.886, StatusDone), 0.66, 500, "trains worse — plain-56 ends with 88.6% training error, plain-20 with 66.0% (+22.6 points): degradation.", "about as well"},
		// 2·√(.61·.39/500 + .596·.404/500) = 6.2 points; the gap is 1.4.
		{"inside the noise", net("plain-56", 56, 0.61, StatusDone), 0.596, 500, "about as well — plain-56 ends with 61.0% training error, plain-20 with 59.6% (+1.4 points, inside the ±6.2 points of measuring on 500 images): no clear degradation.", "trains worse"},
		// The same gap on 50,000 images is 0.6 points of noise.
		{"many images", net("plain-56", 56, 0.61, StatusDone), 0.596, 50000, "trains worse", "about as well"},
		{"deeper is better", net("plain-56", 56, 0.30, StatusDone), 0.40, 500, "trains better — plain-56 ends with 30.0% training error, plain-20 with 40.0% (-10.0 points): no degradation.", "worse"},
		{"diverged", net("plain-56", 56, 0.9, StatusDiverged), 0.40, 500, "plain: plain-56 diverged.", "points"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := []NetResult{net("plain-20", 20, tc.shallow, StatusDone), tc.deep}
			got := degradation("plain", rs, tc.n)
			if !strings.Contains(got, tc.want) || strings.Contains(got, tc.not) {
				t.Errorf("got %q\nwant it to contain %q and not %q", got, tc.want, tc.not)
			}
		})
	}
	if got := degradation("plain", []NetResult{net("plain-20", 20, 0.5, StatusDone)}, 500); got != "" {
		t.Errorf("one net: %q, want no finding", got)
	}
}
