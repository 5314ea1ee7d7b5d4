package train

import (
	"testing"

	"weaksup/loader"
)

func TestRepartition(t *testing.T) {
	saved := loader.Position{Epoch: 3, Consumed: 40, Seed: 7, Rank: 0, World: 2, Sampling: loader.SamplingNatural, Items: 1000}
	for _, tc := range []struct {
		name   string
		in     loader.Position
		part   Part
		want   int // consumed
		again  int
		wantEp int
	}{
		{"same part", saved, Part{0, 2}, 40, 0, 3},
		{"rank 1 of the same world", saved, Part{1, 2}, 40, 0, 3},
		{"two ranks to one", saved, Part{0, 1}, 80, 0, 3},
		{"two ranks to four", saved, Part{3, 4}, 20, 0, 3},
		{"two ranks to three: rounded down", saved, Part{2, 3}, 26, 2, 3},
		{"an old one-process position", loader.Position{Epoch: 1, Consumed: 9, World: 1}, Part{1, 2}, 4, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, again := repartition(tc.in, tc.part)
			if got.Consumed != tc.want || again != tc.again || got.Rank != tc.part.Rank || got.World != tc.part.World ||
				got.Epoch != tc.wantEp || got.Seed != tc.in.Seed || got.Items != tc.in.Items || got.Sampling != tc.in.Sampling {
				t.Fatalf("got %+v (again %d), want consumed %d again %d as rank %d of %d", got, again, tc.want, tc.again, tc.part.Rank, tc.part.World)
			}
		})
	}
}
