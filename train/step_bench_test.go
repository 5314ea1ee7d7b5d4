package train

import (
	"fmt"
	"math"
	"testing"
	"time"

	"weaksup/internal/testkit"
	"weaksup/nets"
	"weaksup/torch"
	"weaksup/torch/torchtest"
)

// BenchmarkTrainStep times one training step (train-mode forward,
// soft-target cross-entropy, backward, SGD step, zero grad) in fp32 and
// under bf16 autocast. testdata/bench_step.py runs the same step in
// PyTorch:
//
//	go test ./train -run '^$' -bench TrainStep
//	/usr/bin/python3 train/testdata/bench_step.py --arch resnext29_small --batch 64 --size 32 --threads 2 --precision bf16
func BenchmarkTrainStep(b *testing.B) {
	cases := []struct {
		arch                 string
		batch, size, threads int64
	}{
		{"resnext_tiny", 64, 32, 2},
		{"resnext29_small", 64, 32, 1},
		{"resnext29_small", 64, 32, 2},
		{"resnext50_32x4d", 16, 224, 2},
	}
	for _, c := range cases {
		for _, cl := range []bool{true, false} {
			format := "contiguous"
			if cl {
				format = "channels_last"
			}
			for _, p := range []Precision{PrecisionFP32, PrecisionBF16} {
				name := fmt.Sprintf("arch=%s/batch=%d/size=%d/threads=%d/format=%s/precision=%s", c.arch, c.batch, c.size, c.threads, format, p)
				b.Run(name, func(b *testing.B) { benchTrainStep(b, c.arch, c.batch, c.size, int(c.threads), cl, p) })
			}
		}
	}
}

func benchTrainStep(b *testing.B, arch string, batch, size int64, threads int, channelsLast bool, prec Precision) {
	torchtest.Need(b)
	if err := torch.SetNumThreads(threads); err != nil {
		b.Fatal(err)
	}
	a, err := nets.LookupArch(arch)
	if err != nil {
		b.Fatal(err)
	}
	const classes = 1000
	m, err := nets.NewResNeXt(nets.Options{Arch: a, NumClasses: classes, ChannelsLast: channelsLast})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	params := m.Trainable()
	mom := make([]*torch.Tensor, len(params))
	defer func() {
		for _, t := range mom {
			t.Close()
		}
	}()
	x := torch.Randn(torch.Float32, torch.CPU, batch, 3, size, size)
	defer x.Close()
	tg := make([]float32, batch*classes)
	for i := int64(0); i < batch; i++ {
		for j := int64(0); j < 3; j++ {
			tg[i*classes+j] = 1.0 / 3
		}
	}
	target := torch.FromFloat32(tg, batch, classes)
	defer target.Close()
	step := func() {
		s := torch.NewScope()
		defer s.Close()
		var loss *torch.Tensor
		err := prec.Autocast(torch.CPU, func() error {
			y, err := m.Forward(x, true)
			loss = LossOf(LossSoftmax, y, target)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := loss.Backward(); err != nil {
			b.Fatal(err)
		}
		if err := torch.SGDStep(params, mom, torch.SGD{LR: 0.01, Momentum: 0.9, WeightDecay: 1e-4}); err != nil {
			b.Fatal(err)
		}
		if err := torch.ZeroGrad(params); err != nil {
			b.Fatal(err)
		}
		if _, err := loss.Item(); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		step()
	}
	b.ResetTimer()
	best := math.Inf(1)
	cpu0 := testkit.CPUTime()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		step()
		best = math.Min(best, time.Since(t0).Seconds())
	}
	cpu := (testkit.CPUTime() - cpu0).Seconds()
	b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "images/s")
	// On a shared machine the fastest step is the steadiest wall-clock
	// figure, and CPU time per step (OMP_WAIT_POLICY=PASSIVE, so that idle
	// OpenMP workers do not spin) the one load changes least.
	b.ReportMetric(best, "best-s/step")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/step")
}
