package ddp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"weaksup/loader"
	"weaksup/nets"
	"weaksup/torch"
	"weaksup/train"
	"weaksup/train/traintest"
)

// ddpJobEnv carries, as JSON, the job a test binary runs when a
// data-parallel test starts it as one rank (TestMain).
const ddpJobEnv = "WEAKSUP_DDP_TEST_JOB"

// TestMain lets the test binary double as one rank of a data-parallel
// test: with ddpJobEnv set it runs that job and exits; with
// allreduceBenchEnv set it is a rank of BenchmarkTwoHostsAllReduce.
func TestMain(m *testing.M) {
	if spec := os.Getenv(allreduceBenchEnv); spec != "" {
		if err := runAllReduceBench(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if job := os.Getenv(ddpJobEnv); job != "" {
		if err := runDDPJob(job); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// ddpJob is one data-parallel training run of the tests, the same on every
// rank: the tiny net on the generated squares (or on fixed batches).
type ddpJob struct {
	Out        string  `json:"out"`
	Steps      int     `json:"steps"`
	Batch      int     `json:"batch"`
	Accumulate int     `json:"accumulate"`
	Block      string  `json:"block"`
	LR         float64 `json:"lr"`
	NoOverlap  bool    `json:"no_overlap"`
	Resume     bool    `json:"resume"`
	Every      int     `json:"every"`      // checkpoint every so many steps
	EvalEvery  int     `json:"eval_every"` // 0: no evaluation
	// KillAt makes rank 1 kill itself with SIGKILL when it asks for its
	// KillAt-th training batch: mid-step, at a point fixed by the data,
	// not by timing.
	KillAt int `json:"kill_at"`
	// CutAt makes rank 1 take its host's link down (ip link set eth0
	// down) when it asks for its CutAt-th batch; StopAt makes it stop
	// itself with SIGSTOP there. Both are for ranks on two hosts
	// (twohost).
	CutAt  int `json:"cut_at"`
	StopAt int `json:"stop_at"`
	// FaultRank is the rank of KillAt, CutAt and StopAt, when not 1.
	FaultRank *int `json:"fault_rank"`
	// DistTimeout is the collective timeout (default 1 minute).
	DistTimeout time.Duration `json:"dist_timeout"`
	// Fixed names a directory of fixed per-rank batches and initial
	// weights (the PyTorch comparison) instead of the squares.
	Fixed string `json:"fixed"`
	// The benchmark's settings: another architecture (default
	// resnext_tiny), image side (16), training images (160) and libtorch
	// threads per rank (1). A job of one process runs without a group.
	Arch      string `json:"arch"`
	ImageSize int    `json:"image_size"`
	Images    int    `json:"images"`
	Threads   int    `json:"threads"`
	// Precision is what every rank asks for (auto is resolved, and the
	// ranks agree, as pretrain does); Rank1Precision, when set, is what
	// rank 1 asks for instead (a misconfigured job). LossScaling is the
	// run's.
	Precision      train.Precision    `json:"precision"`
	LossScaling    *train.LossScaling `json:"loss_scaling"`
	Rank1Precision train.Precision    `json:"rank1_precision"`
}

// runDDPJob is the body of a rank process: join the group the launcher
// describes, train, and write this rank's final tensors to
// rank-R.safetensors for the tests to compare.
func runDDPJob(spec string) error {
	var job ddpJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		return fmt.Errorf("read the job: %w", err)
	}
	if err := torch.SetNumThreads(max(1, job.Threads)); err != nil {
		return err
	}
	flags := DefaultFlags()
	flags.Timeout = time.Minute
	if job.DistTimeout > 0 {
		flags.Timeout = job.DistTimeout
	}
	flags.NoOverlap = job.NoOverlap
	g, _, err := flags.Join(torch.CPU, os.Stderr)
	if err != nil {
		return err
	}
	defer g.CloseAll()
	par := flags.Parallel(g)
	part := par.Part()
	m, data, _, err := ddpModelAndData(job, part)
	if err != nil {
		return err
	}
	defer m.Close()
	faulty := 1
	if job.FaultRank != nil {
		faulty = *job.FaultRank
	}
	if part.Rank == faulty {
		for _, f := range []struct {
			at     int
			what   string
			action func()
		}{
			{job.KillAt, "kill", func() { syscall.Kill(os.Getpid(), syscall.SIGKILL); select {} }},
			{job.CutAt, "cut", func() {
				if out, err := exec.Command("ip", "link", "set", "eth0", "down").CombinedOutput(); err != nil {
					fmt.Fprintf(os.Stderr, "cut the link: %v: %s\n", err, out)
					os.Exit(3)
				}
			}},
			{job.StopAt, "stop", func() { syscall.Kill(os.Getpid(), syscall.SIGSTOP) }},
		} {
			if f.at > 0 {
				open := data.Train
				data.Train = func(part train.Part, resume *loader.Position) (train.Batches, error) {
					b, err := open(part, resume)
					return &faultAt{Batches: b, at: f.at, what: f.what, action: f.action}, err
				}
			}
		}
	}
	cfg := ddpConfig(job)
	cfg.Parallel = par
	asked := job.Precision
	if job.Rank1Precision != "" && part.Rank == 1 {
		asked = job.Rank1Precision
	}
	if cfg.Precision, err = asked.Resolve(torch.CPU, par, "", os.Stderr, "job"); err != nil {
		return err
	}
	cfg.Log = os.Stderr
	if _, err := train.Run(context.Background(), cfg, m, data); err != nil {
		return err
	}
	return nets.SaveTensors(filepath.Join(job.Out, "rank-"+strconv.Itoa(part.Rank)+".safetensors"), m.Parameters(), nil)
}

// ddpConfig is the training configuration of a job.
func ddpConfig(job ddpJob) train.Config {
	acc := max(1, job.Accumulate)
	return train.Config{Out: job.Out, Steps: job.Steps, Batch: job.Batch, Accumulate: acc, CheckpointEvery: job.Every,
		EvalEvery: job.EvalEvery, LogEvery: 1, NoPlots: true, Resume: job.Resume,
		Schedule: train.Schedule{BaseLR: job.LR, Decay: train.DecayConstant}, SGD: train.SGDConfig{Momentum: 0.9, WeightDecay: 1e-4}, Precision: job.Precision, LossScaling: job.LossScaling}
}

// ddpModelAndData builds the job's model (the same on every rank: seeded,
// or loaded from the fixed initial weights) and data.
func ddpModelAndData(job ddpJob, part train.Part) (*nets.ResNeXt, train.Data, int, error) {
	block, err := nets.ParseBlock(job.Block)
	if err != nil {
		return nil, train.Data{}, 0, err
	}
	arch := job.Arch
	if arch == "" {
		arch = "resnext_tiny"
	}
	a, err := nets.LookupArch(arch)
	if err != nil {
		return nil, train.Data{}, 0, err
	}
	if err := torch.ManualSeed(5); err != nil {
		return nil, train.Data{}, 0, err
	}
	const k = 4
	m, err := nets.NewResNeXt(nets.Options{Arch: a, NumClasses: k, Block: block, ZeroInitLastBN: true, ChannelsLast: true})
	if err != nil {
		return nil, train.Data{}, 0, err
	}
	if job.Fixed != "" {
		if err := m.Load(filepath.Join(job.Fixed, "init.safetensors"), nets.LoadOptions{}); err != nil {
			m.Close()
			return nil, train.Data{}, 0, err
		}
		data := train.Data{Train: func(part train.Part, _ *loader.Position) (train.Batches, error) {
			return openFixedBatches(job.Fixed, part.Rank, k)
		}}
		return m, data, k, nil
	}
	px, n := 16, 160
	if job.ImageSize > 0 {
		px = job.ImageSize
	}
	if job.Images > 0 {
		n = job.Images
	}
	trainSet := traintest.NewSquares(n, k, px, 11)
	val := traintest.NewSquares(37, k, px, 12)
	data := squaresData(trainSet, val, job.Batch, px, 21)
	if job.EvalEvery == 0 {
		data.Val = nil
	}
	return m, data, k, nil
}

// faultAt runs action when the at-th batch is asked for: a fault at a
// point of the run fixed by the data, not by timing (mid-step: the other
// rank cannot finish the step without this one).
type faultAt struct {
	train.Batches
	at, n  int
	what   string
	action func()
}

func (f *faultAt) Next(ctx context.Context) (*loader.Batch, error) {
	f.n++
	if f.n == f.at {
		// The tests time what follows from this line (faultLine).
		fmt.Fprintf(os.Stderr, "fault: %s at %d\n", f.what, time.Now().UnixNano())
		f.action()
	}
	return f.Batches.Next(ctx)
}

// launchDDP runs job as world ranks of this test binary through
// LaunchLocal and returns its error and everything the ranks wrote to
// stderr.
func launchDDP(t testing.TB, job ddpJob, world int) (string, error) {
	t.Helper()
	spec, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	ctx := context.Background()
	env := append(os.Environ(), ddpJobEnv+"="+string(spec))
	if _, bench := t.(*testing.B); bench {
		// go test -timeout bounds a benchmark. Idle OpenMP workers wait
		// passively: on a machine shared with other work, spinning ones
		// steal the cores the other rank needs.
		if !hasEnv(env, "OMP_WAIT_POLICY") {
			env = append(env, "OMP_WAIT_POLICY=PASSIVE")
		}
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
	}
	err = LaunchLocal(ctx, LaunchOptions{N: world, Exe: os.Args[0], Args: []string{"-test.run=^$"},
		Env: env, Stdout: &stderr, Stderr: &stderr, Grace: 20 * time.Second})
	return stderr.String(), err
}

// mustLaunchDDP is launchDDP for a run that must succeed.
func mustLaunchDDP(t *testing.T, job ddpJob, world int) string {
	t.Helper()
	out, err := launchDDP(t, job, world)
	if err != nil {
		t.Fatalf("%d ranks: %v\n%s", world, err, out)
	}
	return out
}

// squaresData returns train.Data over generated train and held-out sets.
func squaresData(trainSet, val *traintest.Squares, batch, px int, seed uint64) train.Data {
	openTrain, openVal := traintest.Loaders(trainSet, val, batch, px, seed)
	return train.Data{
		Train: func(part train.Part, resume *loader.Position) (train.Batches, error) {
			return openTrain(part.Rank, part.World, resume)
		},
		Val: func(part train.Part) (train.Batches, error) { return openVal(part.Rank, part.World) },
	}
}

func readState(t *testing.T, out string) train.CheckpointState {
	t.Helper()
	dir, err := train.LatestCheckpoint(train.CheckpointsDir(out))
	if err != nil {
		t.Fatal(err)
	}
	st, err := train.ReadCheckpointState(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
