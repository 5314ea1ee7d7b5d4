package ddp

import (
	"strings"
	"testing"
	"time"

	"weaksup/nets"
	"weaksup/torch/torchtest"
)

func TestBucketizeReversesAndCaps(t *testing.T) {
	torchtest.Need(t)
	a, err := nets.LookupArch("tiny")
	if err != nil {
		t.Fatal(err)
	}
	m, err := nets.NewResNeXt(nets.Options{Arch: a, NumClasses: 4})
	if err != nil {
		t.Fatal(err)
	}
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

func TestFlagsValidate(t *testing.T) {
	ok := []Flags{{}, DefaultFlags(), {NProcPerNode: 4, Backend: "nccl", Timeout: time.Second, BucketMB: 1}}
	for _, d := range ok {
		if err := d.Validate(); err != nil {
			t.Errorf("%+v: %v", d, err)
		}
	}
	for flag, d := range map[string]Flags{
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
