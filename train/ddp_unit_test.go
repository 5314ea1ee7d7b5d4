package train

import (
	"strings"
	"testing"
	"time"

	"weaksup/loader"
	"weaksup/torch/torchtest"
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

func TestBucketizeReversesAndCaps(t *testing.T) {
	torchtest.Need(t)
	m := newTiny(t, 4, 1, Bottleneck)
	defer m.Close()
	params := m.Trainable()
	var total int64
	for _, p := range params {
		total += p.Numel() * 4
	}
	limit := total / 3
	buckets := bucketize(params, limit)
	var flat []int64
	for _, b := range buckets {
		var size int64
		for _, p := range b {
			size += p.Numel() * 4
			flat = append(flat, p.Numel())
		}
		if size > limit && len(b) > 1 {
			t.Errorf("a bucket of %d parameters holds %d bytes, over the %d limit", len(b), size, limit)
		}
	}
	if len(buckets) < 3 || len(flat) != len(params) {
		t.Fatalf("%d buckets of %d parameters for %d parameters of %d bytes under a %d-byte limit", len(buckets), len(flat), len(params), total, limit)
	}
	for i, p := range params {
		if flat[len(flat)-1-i] != p.Numel() {
			t.Fatalf("bucket order is not the reverse parameter order at parameter %d", i)
		}
	}
}

func TestDistFlagsValidate(t *testing.T) {
	ok := []DistFlags{{}, DefaultDistFlags(), {NProcPerNode: 4, Backend: "nccl", Timeout: time.Second, BucketMB: 1}}
	for _, d := range ok {
		if err := d.Validate(); err != nil {
			t.Errorf("%+v: %v", d, err)
		}
	}
	for flag, d := range map[string]DistFlags{
		"--nproc-per-node": {NProcPerNode: -1},
		"--dist-backend":   {Backend: "mpi"},
		"--dist-timeout":   {Timeout: -time.Second},
		"--bucket-mb":      {BucketMB: -1},
	} {
		if err := d.Validate(); err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("%+v: error %v, want one naming %s", d, err, flag)
		}
	}
}
