package ddp

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"weaksup/ddp/ddptest"
	"weaksup/internal/twohost"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train"
)

// BenchmarkTwoHosts measures BenchmarkDataParallel's loop (resnext29_small,
// 32 px, global batch 64 as 2 ranks × 32, one libtorch thread each, the
// allreduce during backward) with one rank on each of two hosts (package
// twohost): over a veth pair, and over the TUN pair this process carries
// packets across with 0, 1 and 20 ms added each way, and 20 ms with 1% of
// the packets lost each way. The figures are
// BenchmarkDataParallel's, plus
//
//	link-cpu-s   CPU time of this process per run: the shaped link's
//	             carrying of packets (the veth pair costs the kernel only)
//
// Run it with: go test -tags libjpeg -run '^$' -bench TwoHosts -benchtime 1x ./ddp/
func BenchmarkTwoHosts(b *testing.B) {
	const benchSteps, benchSkip = 24, 6
	for _, c := range []struct {
		name string
		opt  twohost.Options
	}{
		{"link=veth", twohost.Options{}},
		{"link=shaped/delay=0", twohost.Options{Shaped: true}},
		{"link=shaped/delay=1ms", twohost.Options{Delay: time.Millisecond}},
		{"link=shaped/delay=20ms", twohost.Options{Delay: 20 * time.Millisecond}},
		{"link=shaped/delay=20ms/loss=1%", twohost.Options{Delay: 20 * time.Millisecond, Loss: 0.01}},
	} {
		b.Run(c.name, func(b *testing.B) {
			torchtest.Need(b)
			var f loopFigures
			var linkCPU float64
			for range b.N {
				out := b.TempDir()
				job := ddpJob{Out: out, Steps: benchSteps, Batch: 32, Block: "bottleneck", LR: 0.1,
					Arch: "resnext29_small", ImageSize: 32, Images: 64 * benchSteps, Threads: 1}
				p := twohost.New(b, c.opt)
				before, self := childCPU(), selfCPU()
				runJob(b, p, job, ddptest.EnvLaunch, "OMP_WAIT_POLICY=PASSIVE")
				f.cpu += (childCPU() - before).Seconds()
				linkCPU += (selfCPU() - self).Seconds()
				f.add(b, filepath.Join(out, train.MetricsFile), benchSkip)
			}
			f.report(b)
			b.ReportMetric(linkCPU/float64(b.N), "link-cpu-s")
		})
	}
}

// BenchmarkCutLink measures how long after a link is cut mid-step (rank 1
// of two, one per host, takes its host's link down asking for its 11th
// batch) each rank has ended, with the default collective timeout
// (--dist-timeout 10m): the heartbeat watcher, not the timeout, ends them.
//
//	rank0-exit-s, rank1-exit-s   seconds from the cut to the rank's exit
//	dist-timeout-s               the collective timeout, for comparison
//
// Run it with: go test -tags libjpeg -run '^$' -bench CutLink -benchtime 3x ./ddp/
func BenchmarkCutLink(b *testing.B) {
	torchtest.Need(b)
	var exits [2]float64
	for range b.N {
		p := twohost.New(b, twohost.Options{})
		job := hostsJob(b.TempDir())
		job.DistTimeout = DefaultTimeout
		job.CutAt = 11
		ranks := startJob(b, p, job, ddptest.EnvLaunch)
		fault := faultTime(b, ranks[1])
		for i, r := range ranks {
			if err := r.Wait(b, DefaultTimeout); err == nil {
				b.Fatalf("%s succeeded after the cut", r.Name)
			}
			exits[i] += r.End.Sub(fault).Seconds()
		}
	}
	n := float64(b.N)
	b.ReportMetric(exits[0]/n, "rank0-exit-s")
	b.ReportMetric(exits[1]/n, "rank1-exit-s")
	b.ReportMetric(DefaultTimeout.Seconds(), "dist-timeout-s")
}

// loopFigures sums BenchmarkDataParallel's figures over runs.
type loopFigures struct {
	images, seconds, comm, hidden, bytes, cpu float64
	steps                                     int
}

// add reads a run's metrics rows past the first skip steps.
func (f *loopFigures) add(b *testing.B, metrics string, skip int) {
	rows, err := train.ReadMetrics(metrics)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range rows {
		if r.Kind != train.RowTrain || r.Step <= skip || r.ImagesPerS <= 0 {
			continue
		}
		f.steps++
		f.images += float64(r.GlobalBatch)
		f.seconds += float64(r.GlobalBatch) / r.ImagesPerS
		f.comm += r.CommS
		f.hidden += r.CommHiddenS
		f.bytes += float64(r.CommBytes)
	}
}

func (f *loopFigures) report(b *testing.B) {
	if f.steps == 0 {
		b.Fatal("no training rows past the start-up steps")
	}
	n := float64(f.steps)
	b.ReportMetric(f.images/f.seconds, "images/s")
	b.ReportMetric(1000*f.seconds/n, "step-ms")
	b.ReportMetric(1000*f.comm/n, "comm-ms/step")
	b.ReportMetric(1000*f.hidden/n, "hidden-ms/step")
	b.ReportMetric(f.bytes/n/(1<<20), "MB/step")
	b.ReportMetric(f.cpu/float64(b.N), "cpu-s")
}

// selfCPU is this process's user and system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// allreduceBenchEnv carries, as JSON, the allreduces a rank of
// BenchmarkTwoHostsAllReduce times.
const allreduceBenchEnv = "WEAKSUP_DDP_ALLREDUCE_BENCH"

type allreduceBench struct {
	Floats int64 `json:"floats"`
	Iters  int   `json:"iters"`
}

// runAllReduceBench joins the group the environment describes, allreduces
// a bucket of Floats float32 three times to warm up and Iters times timed,
// and (rank 0) prints "allreduce NS" per operation.
func runAllReduceBench(spec string) error {
	var job allreduceBench
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		return err
	}
	if err := torch.SetNumThreads(1); err != nil {
		return err
	}
	g, _, err := DefaultFlags().Join(torch.CPU, nil)
	if err != nil {
		return err
	}
	defer g.CloseAll()
	x := torch.Ones(torch.Float32, torch.CPU, job.Floats)
	defer x.Close()
	var t0 time.Time
	for i := range job.Iters + 3 {
		if i == 3 {
			t0 = time.Now()
		}
		if err := g.AllReduce([]*torch.Tensor{x}, torch.DistAvg); err != nil {
			return err
		}
	}
	if g.Rank() == 0 {
		fmt.Printf("allreduce %d\n", time.Since(t0).Nanoseconds()/int64(job.Iters))
	}
	return nil
}

// BenchmarkTwoHostsAllReduce times one allreduce between two ranks (two
// processes, one libtorch thread each, nothing else to do) on loopback and
// across the hosts' links of BenchmarkTwoHosts: of one float (a round of
// the link's latency: the stop vote, the loss average) and of 2.77 MB
// (resnext29_small's gradients in one bucket).
//
//	ms/op   milliseconds per allreduce
//
// Run it with: go test -tags libjpeg -run '^$' -bench TwoHostsAllReduce -benchtime 1x ./ddp/
func BenchmarkTwoHostsAllReduce(b *testing.B) {
	links := []struct {
		name string
		opt  *twohost.Options // nil: loopback
	}{
		{"link=loopback", nil},
		{"link=veth", &twohost.Options{}},
		{"link=shaped/delay=0", &twohost.Options{Shaped: true}},
		{"link=shaped/delay=1ms", &twohost.Options{Delay: time.Millisecond}},
		{"link=shaped/delay=20ms", &twohost.Options{Delay: 20 * time.Millisecond}},
		{"link=shaped/delay=20ms/loss=1%", &twohost.Options{Delay: 20 * time.Millisecond, Loss: 0.01}},
	}
	for _, l := range links {
		for _, size := range []struct {
			name   string
			floats int64
			iters  int
		}{{"MB=0", 1, 50}, {"MB=2.77", 726_138, 20}} {
			b.Run(l.name+"/"+size.name, func(b *testing.B) {
				torchtest.Need(b)
				spec, _ := json.Marshal(allreduceBench{Floats: size.floats, Iters: size.iters})
				env := allreduceBenchEnv + "=" + string(spec)
				var total time.Duration
				for range b.N {
					var out string
					if l.opt == nil {
						var log strings.Builder
						if err := LaunchLocal(b.Context(), LaunchOptions{N: 2, Exe: os.Args[0], Args: []string{"-test.run=^$"},
							Env: append(ddptest.Environ(), env), Stdout: &log, Stderr: &log}); err != nil {
							b.Fatalf("%v\n%s", err, log.String())
						}
						out = log.String()
					} else {
						ranks := runJobEnv(b, twohost.New(b, *l.opt), env)
						out = ranks[0].Output()
					}
					var ns int64
					if _, err := fmt.Sscanf(out[strings.Index(out, "allreduce "):], "allreduce %d", &ns); err != nil {
						b.Fatalf("read %q: %v", out, err)
					}
					total += time.Duration(ns)
				}
				b.ReportMetric(total.Seconds()*1000/float64(b.N), "ms/op")
			})
		}
	}
}

// runJobEnv runs this test binary as rank 0 on host A and rank 1 on host
// B under the environment launch, with env, and waits for both.
func runJobEnv(b *testing.B, p *twohost.Pair, env string) [2]*ddptest.Proc {
	var ranks [2]*ddptest.Proc
	for r, h := range []*twohost.Host{p.A, p.B} {
		ranks[r] = ddptest.Start(b, h, fmt.Sprintf("rank %d", r), append(ddptest.EnvLaunch(r), env), os.Args[0], "-test.run=^$")
	}
	for _, r := range ranks {
		if err := r.Wait(b, 5*time.Minute); err != nil {
			b.Fatalf("%s: %v\n%s", r.Name, err, r.Output())
		}
	}
	return ranks
}
