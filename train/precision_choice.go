package train

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"

	"weaksup/nets"
	"weaksup/torch"
)

// minProbeSpeedup is how much faster than fp32 a bf16 probe step must run
// for auto to pick bf16. On this project's reference CPU (AVX512_BF16)
// whole training steps run 2–3x as fast (BENCHMARKS.md); emulated bf16 runs
// slower than fp32.
const minProbeSpeedup = 1.2

// ChoosePrecision resolves p for dev and says why, for the log. A precision
// other than auto is checked and returned as is. Auto picks bf16 where the
// device computes it natively and it pays: on the CPU, AVX512_BF16 or
// AMX-BF16 and a probe (one resnext_tiny training step at 32 px, batch 32,
// timed in both precisions, best of three, well under a second) that runs
// at least 1.2x as fast in bf16; on CUDA, compute capability 8.0 or later.
// Elsewhere it picks fp32. The probe runs once per device and process and
// leaves libtorch's RNG as it found it.
func ChoosePrecision(p Precision, dev torch.Device) (Precision, string, error) {
	p = p.orFP32()
	if p != PrecisionAuto {
		if err := p.Check(dev); err != nil {
			return "", "", err
		}
		return p, "as requested", nil
	}
	native, err := torch.BF16Supported(dev)
	if err != nil {
		return "", "", fmt.Errorf("choose precision on %v: %w", dev, err)
	}
	if dev.Type == torch.DeviceCUDA {
		if native {
			return PrecisionBF16, fmt.Sprintf("auto: %v computes bfloat16 natively (compute capability ≥ 8.0)", dev), nil
		}
		return PrecisionFP32, fmt.Sprintf("auto: %v has no native bfloat16 (compute capability < 8.0); --precision fp16 gives loss-scaled float16", dev), nil
	}
	if !native {
		return PrecisionFP32, "auto: the CPU has neither AVX512_BF16 nor AMX-BF16, so bfloat16 would be emulated and slower", nil
	}
	speedup, err := cachedProbe(dev)
	if err != nil {
		return "", "", fmt.Errorf("choose precision on %v: %w", dev, err)
	}
	if speedup < minProbeSpeedup {
		return PrecisionFP32, fmt.Sprintf("auto: the CPU has AVX512_BF16 or AMX-BF16, but a bf16 probe step ran only %.2fx as fast as fp32", speedup), nil
	}
	return PrecisionBF16, fmt.Sprintf("auto: the CPU has AVX512_BF16 or AMX-BF16 and a bf16 probe step ran %.2fx as fast as fp32", speedup), nil
}

var probes struct {
	sync.Mutex
	speedup map[torch.Device]float64
}

func cachedProbe(dev torch.Device) (float64, error) {
	probes.Lock()
	defer probes.Unlock()
	if s, ok := probes.speedup[dev]; ok {
		return s, nil
	}
	s, err := probeBF16(dev)
	if err != nil {
		return 0, err
	}
	if probes.speedup == nil {
		probes.speedup = map[torch.Device]float64{}
	}
	probes.speedup[dev] = s
	return s, nil
}

// probeBF16 returns how many times as fast a bf16 training step (forward,
// loss, backward) of resnext_tiny runs as an fp32 one on dev, best of three
// each, the two precisions interleaved so that a change in the machine's
// load touches both.
func probeBF16(dev torch.Device) (speedup float64, err error) {
	rng, err := torch.RNGState(torch.CPU)
	if err != nil {
		return 0, err
	}
	defer func() {
		if rerr := torch.SetRNGState(torch.CPU, rng); rerr != nil && err == nil {
			err = rerr
		}
	}()
	arch, err := nets.LookupArch("resnext_tiny")
	if err != nil {
		return 0, err
	}
	const classes, batch, size = 10, 32, 32
	m, err := nets.NewResNeXt(nets.Options{Arch: arch, NumClasses: classes, ChannelsLast: true, Device: dev})
	if err != nil {
		return 0, err
	}
	defer m.Close()
	x := torch.Keep(torch.Randn(torch.Float32, torch.CPU, batch, 3, size, size).To(dev))
	defer x.Close()
	tg := make([]float32, batch*classes)
	for i := 0; i < batch; i++ {
		tg[i*classes+i%classes] = 1
	}
	y := torch.Keep(torch.FromFloat32(tg, batch, classes).To(dev))
	defer y.Close()
	params := m.Trainable()
	defer torch.ZeroGrad(params)
	step := func(p Precision) (time.Duration, error) {
		s := torch.NewScope()
		defer s.Close()
		t0 := time.Now()
		var loss *torch.Tensor
		err := p.Autocast(dev, func() error {
			logits, err := m.Forward(x, true)
			if err != nil {
				return err
			}
			loss = LossOf(LossSoftmax, logits, y)
			return loss.Err()
		})
		if err == nil {
			err = loss.Backward()
		}
		if err == nil {
			err = torch.Synchronize(dev)
		}
		d := time.Since(t0)
		if zerr := torch.ZeroGrad(params); err == nil {
			err = zerr
		}
		return d, err
	}
	best := map[Precision]time.Duration{PrecisionFP32: time.Duration(math.MaxInt64), PrecisionBF16: time.Duration(math.MaxInt64)}
	for round := 0; round < 4; round++ { // the first round warms up
		for _, p := range []Precision{PrecisionFP32, PrecisionBF16} {
			d, err := step(p)
			if err != nil {
				return 0, fmt.Errorf("probe %s step: %w", p, err)
			}
			if round > 0 && d < best[p] {
				best[p] = d
			}
		}
	}
	return best[PrecisionFP32].Seconds() / best[PrecisionBF16].Seconds(), nil
}

// Resolve returns the precision a run on dev computes in, once for the
// whole job, and logs it with the reason under label: auto is resolved
// (ChoosePrecision; when resuming a run that computed in resumed — "" for
// a fresh run —, that precision, so that a resumed run computes as the
// interrupted one did), and par's ranks agree: every rank
// takes rank 0's choice (auto times a probe step on each rank, which could
// split them between bf16 and fp32 on a loaded machine), and ranks asked
// for different precisions stop here with an error saying so, before
// they would average gradients of different arithmetic.
func (p Precision) Resolve(dev torch.Device, par Parallel, resumed Precision, log io.Writer, label string) (Precision, error) {
	asked := p.orFP32()
	got, why, err := asked, "", error(nil)
	if asked == PrecisionAuto && resumed != "" && resumed.Check(dev) == nil {
		got, why = resumed, "auto: the precision of the run being resumed"
	}
	if why == "" {
		if got, why, err = ChoosePrecision(asked, dev); err != nil {
			return "", fmt.Errorf("check flag --precision: %w", err)
		}
	}
	// One collective: the smallest and largest precision asked for, and
	// rank 0's choice (the other ranks offer -1).
	code := func(q Precision) float64 { return float64(slices.Index(Precisions, q)) }
	mine := -1.0
	if par.Part().Rank == 0 {
		mine = code(got)
	}
	v, err := par.Reduce(torch.DistMax, code(asked), -code(asked), mine)
	if err != nil {
		return "", fmt.Errorf("agree on the precision: %w", err)
	}
	if v[0] != -v[1] {
		return "", fmt.Errorf("check precision: the ranks were given different precisions (this rank, %d: %s); give every rank the same --precision",
			par.Part().Rank, asked)
	}
	if i := int(v[2]); i < 0 || i >= len(Precisions) {
		return "", fmt.Errorf("agree on the precision: rank 0 sent code %v", v[2])
	} else if Precisions[i] != got {
		why = fmt.Sprintf("rank 0's choice; this rank's own was %s (%s)", got, why)
		got = Precisions[i]
	}
	if log != nil {
		fmt.Fprintf(log, "%s: precision %s (%s)\n", label, got, why)
	}
	return got, nil
}
