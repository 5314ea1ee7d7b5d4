package ddp

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"weaksup/nets"
	"weaksup/torch/torchtest"
	"weaksup/train"
)

// BenchmarkDataParallel measures the whole training loop (loader, forward,
// backward, communication, optimizer) of resnext29_small on 32 px images at
// a global batch of 64, as one process with two libtorch threads against
// two ranks of one thread each (gloo on loopback), with the gradient
// allreduce overlapping the backward pass (c10d's Reducer) and after it.
// Each iteration is a run of benchSteps steps in fresh processes; the
// first benchSkip steps (start-up, the Reducer's first backward in one
// bucket) are left out of the figures:
//
//	images/s        global images per second of the loop
//	comm-ms/step    time per step the ranks waited on communication
//	                (exposed allreduce, buffer broadcast, the stop vote)
//	hidden-ms/step  gradient allreduce that ran while backward still computed
//	MB/step         gradient and buffer bytes each rank reduced or broadcast
//	param-MB        the bytes of the trainable parameters, for comparison
//	cpu-s           CPU time of all processes, for a loaded machine
//
// The ranks run with OMP_WAIT_POLICY=PASSIVE unless it is set.
//
// Run it with: go test -tags libjpeg -run '^$' -bench DataParallel -benchtime 1x ./train/
func BenchmarkDataParallel(b *testing.B) {
	const benchSteps, benchSkip = 24, 6
	for _, c := range []struct {
		name      string
		ranks     int
		threads   int
		noOverlap bool
	}{
		{"ranks=1/threads=2", 1, 2, false},
		{"ranks=2/threads=1/overlap", 2, 1, false},
		{"ranks=2/threads=1/no-overlap", 2, 1, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			torchtest.Need(b)
			var images, seconds, comm, hidden, bytes, cpu float64
			var steps int
			for range b.N {
				out := b.TempDir()
				job := ddpJob{Out: out, Steps: benchSteps, Batch: 64 / c.ranks, Block: "bottleneck", LR: 0.1,
					Arch: "resnext29_small", ImageSize: 32, Images: 64 * benchSteps, Threads: c.threads, NoOverlap: c.noOverlap}
				before := childCPU()
				if log, err := launchDDP(b, job, c.ranks); err != nil {
					b.Fatalf("%v\n%s", err, log)
				}
				cpu += (childCPU() - before).Seconds()
				rows, err := train.ReadMetrics(filepath.Join(out, train.MetricsFile))
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range rows {
					if r.Kind != train.RowTrain || r.Step <= benchSkip || r.ImagesPerS <= 0 {
						continue
					}
					steps++
					images += float64(r.GlobalBatch)
					seconds += float64(r.GlobalBatch) / r.ImagesPerS
					comm += r.CommS
					hidden += r.CommHiddenS
					bytes += float64(r.CommBytes)
				}
			}
			if steps == 0 {
				b.Fatal("no training rows past the start-up steps")
			}
			n := float64(steps)
			b.ReportMetric(images/seconds, "images/s")
			b.ReportMetric(1000*comm/n, "comm-ms/step")
			b.ReportMetric(1000*hidden/n, "hidden-ms/step")
			b.ReportMetric(bytes/n/(1<<20), "MB/step")
			b.ReportMetric(cpu/float64(b.N), "cpu-s")
			a, _ := nets.LookupArch("resnext29_small")
			if m, err := nets.NewResNeXt(nets.Options{Arch: a, NumClasses: 4}); err == nil {
				b.ReportMetric(float64(m.NumParameters()*4)/(1<<20), "param-MB")
				m.Close()
			}
		})
	}
}

// childCPU is the user and system time of the waited-for child processes.
func childCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
