package train

import (
	"context"
	"fmt"
	_ "image/png"
	"testing"
	"time"

	"weaksup/internal/testkit"
	"weaksup/loader"
	"weaksup/nets"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train/traintest"
)

// BenchmarkRun measures whole-loop training throughput: train.Run over the
// shards loader (JPEG decode, random-resized crop, flip, normalize on
// GOMAXPROCS goroutines), forward, c-of-K loss, backward, SGD step,
// metrics, on 2 libtorch threads. images/s is over the benchmark's wall
// time (final checkpoint included); step-images/s is Result.ImagesPerS,
// over the steps alone (data waits included); data-wait-% is the share of
// the benchmark's wall time the loop spent waiting for the loader (near 0:
// the loader keeps up), and cpu-ms/image the process's CPU time per image.
// testdata/bench_step.py measures PyTorch's step on the same nets. Each
// case runs in fp32 and in bf16 (autocast).
func BenchmarkRun(b *testing.B) {
	for _, c := range []struct {
		arch   string
		size   int
		batch  int
		format string
	}{
		{"resnext_tiny", 32, 64, "channels_last"},
		{"resnext_tiny", 64, 64, "channels_last"},
		{"resnext29_small", 32, 64, "channels_last"},
		{"resnext29_small", 64, 64, "channels_last"},
	} {
		for _, p := range []Precision{PrecisionFP32, PrecisionBF16} {
			name := fmt.Sprintf("arch=%s/size=%d/batch=%d/format=%s/precision=%s", c.arch, c.size, c.batch, c.format, p)
			b.Run(name, func(b *testing.B) { benchRun(b, c.arch, c.size, c.batch, p) })
		}
	}
}

func benchRun(b *testing.B, arch string, size, batch int, prec Precision) {
	torchtest.Need(b)
	if err := torch.SetNumThreads(2); err != nil {
		b.Fatal(err)
	}
	const k = 1000
	src, err := traintest.NewSquares(4*batch, 8, size, 1).JPEG(k)
	if err != nil {
		b.Fatal(err)
	}
	a, err := nets.LookupArch(arch)
	if err != nil {
		b.Fatal(err)
	}
	torch.ManualSeed(1)
	m, err := nets.NewResNeXt(nets.Options{Arch: a, NumClasses: k, ZeroInitLastBN: true, ChannelsLast: true})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	data := squaresData(src, src, batch, size, 1)
	data.Val = nil
	var wait time.Duration
	open := data.Train
	data.Train = func(part Part, p *loader.Position) (Batches, error) {
		l, err := open(part, p)
		return &waitTimer{Batches: l, wait: &wait}, err
	}
	cfg := Config{Out: b.TempDir(), Steps: b.N + 2, Batch: batch, NoPlots: true, LogEvery: 1 << 30,
		Schedule: Schedule{BaseLR: 0.1}, SGD: defaultSGD, Precision: prec}
	// Two warm-up steps, then the timed ones.
	warm := cfg
	warm.Steps = 2
	if _, err := Run(context.Background(), warm, m, data); err != nil {
		b.Fatal(err)
	}
	cfg.Resume = true
	wait = 0
	cpu0 := testkit.CPUTime()
	b.ResetTimer()
	res, err := Run(context.Background(), cfg, m, data)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(res.ImagesPerS, "step-images/s")
	b.ReportMetric(100*wait.Seconds()/b.Elapsed().Seconds(), "data-wait-%")
	b.ReportMetric(1000*(testkit.CPUTime()-cpu0).Seconds()/float64(b.N*batch), "cpu-ms/image")
}

// waitTimer adds up the time Next blocks.
type waitTimer struct {
	Batches
	wait *time.Duration
}

func (w *waitTimer) Next(ctx context.Context) (*loader.Batch, error) {
	t0 := time.Now()
	b, err := w.Batches.Next(ctx)
	*w.wait += time.Since(t0)
	return b, err
}
