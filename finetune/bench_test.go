package finetune

import (
	"context"
	"fmt"
	"testing"

	"weaksup/datasets"
	"weaksup/datasets/datasetstest"
	"weaksup/nets"
	"weaksup/torch"
	"weaksup/torch/torchtest"
)

// BenchmarkExtract measures linear-probe feature extraction end to end:
// JPEG decode, resize and center crop by the loader, then the backbone in
// evaluation mode without gradients. One iteration is one pass over a
// folder of 256×256 JPEGs; images/s is the figure to compare.
//
//	go test -run '^$' -bench Extract -benchtime 3x ./finetune/
func BenchmarkExtract(b *testing.B) {
	torchtest.Need(b)
	cases := []struct {
		arch                string
		size, batch, images int
	}{
		{"resnext_tiny", 32, 64, 256},
		{"resnext29_small", 32, 64, 256},
		{"resnext50_32x4d", 224, 32, 64},
	}
	dir := b.TempDir()
	datasetstest.ImageFolder(b, dir, datasetstest.Spec{K: 4, Train: 64, Size: 256})
	ds, err := datasets.OpenImageFolder(dir)
	if err != nil {
		b.Fatal(err)
	}
	sp, err := ds.Split(datasets.SplitTrain)
	if err != nil {
		b.Fatal(err)
	}
	all := sp.(datasets.Files)
	k := len(ds.Classes())
	threads, err := torch.NumThreads()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("arch=%s/size=%d/batch=%d/threads=%d", c.arch, c.size, c.batch, threads), func(b *testing.B) {
			arch, err := nets.LookupArch(c.arch)
			if err != nil {
				b.Fatal(err)
			}
			m, err := nets.NewResNeXt(nets.Options{Arch: arch, NumClasses: k, ChannelsLast: true})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			items := all[:c.images]
			o := ExtractOptions{ImageSize: c.size, Batch: c.batch}
			// One batch first, to warm libtorch's kernels and allocator.
			if _, err := extract(context.Background(), m, items[:c.batch], k, o); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := extract(context.Background(), m, items, k, o); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "images/s")
		})
	}
}
