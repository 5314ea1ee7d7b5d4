package testkit

// ChiSquare returns Pearson's statistic Σ (obs-exp)²/exp of observed counts
// against expected ones, for testing that a sampler draws as it should.
func ChiSquare(obs []int, exp []float64) float64 {
	x := 0.0
	for i := range obs {
		d := float64(obs[i]) - exp[i]
		x += d * d / exp[i]
	}
	return x
}
