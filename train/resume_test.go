package train

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"weaksup/nets"
	"weaksup/storage"
	"weaksup/storage/storagetest"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train/traintest"
)

// resumeEnv names the run directory when the test binary runs as the
// training subprocess that TestRunResumesAfterKill kills.
const resumeEnv = "WEAKSUP_TRAIN_RESUME_CHILD"

// TestMain lets the test binary double as a training process: with
// resumeEnv set it trains into that directory and exits.
func TestMain(m *testing.M) {
	if dir := os.Getenv(resumeEnv); dir != "" {
		if err := resumeRun(dir, true); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if uninterrupted.dir != "" {
		os.RemoveAll(uninterrupted.dir)
	}
	os.Exit(code)
}

// uninterrupted is resumeRun's run without a break, made once for the
// tests that compare a resumed run with it.
var uninterrupted struct {
	once sync.Once
	dir  string
	err  error
}

func uninterruptedRun(t *testing.T) string {
	t.Helper()
	uninterrupted.once.Do(func() {
		uninterrupted.dir, uninterrupted.err = os.MkdirTemp("", "weaksup-resume-")
		if uninterrupted.err == nil {
			uninterrupted.err = resumeRun(uninterrupted.dir, false)
		}
	})
	if uninterrupted.err != nil {
		t.Fatal(uninterrupted.err)
	}
	return uninterrupted.dir
}

const resumeSteps = 40

// resumeRun trains the tiny net for resumeSteps steps into dir, resuming
// from its newest checkpoint when asked. Every run of it builds the same
// model from the same seed, with one thread, so runs are comparable bit
// for bit.
func resumeRun(dir string, resume bool) error {
	if err := torch.SetNumThreads(1); err != nil {
		return err
	}
	if err := torch.ManualSeed(5); err != nil {
		return err
	}
	a, err := nets.LookupArch("resnext_tiny")
	if err != nil {
		return err
	}
	m, err := nets.NewResNeXt(nets.Options{Arch: a, NumClasses: 4, ZeroInitLastBN: true, ChannelsLast: true})
	if err != nil {
		return err
	}
	defer m.Close()
	const px, batch = 16, 16
	train := traintest.NewSquares(160, 4, px, 11)
	val := traintest.NewSquares(32, 4, px, 12)
	cfg := Config{Out: dir, Steps: resumeSteps, Batch: batch, Accumulate: 2, CheckpointEvery: 3, EvalEvery: 7, Keep: 3, LogEvery: 2, NoPlots: true,
		Schedule: Schedule{BaseLR: 0.4, WarmupSteps: 5, Decay: DecayCosine}, SGD: SGDConfig{Momentum: 0.9, WeightDecay: 1e-4, Nesterov: true}, Resume: resume}
	_, err = Run(context.Background(), cfg, m, squaresData(train, val, batch, px, 21))
	return err
}

// TestRunResumesAfterKill kills a training process with SIGKILL after its
// first checkpoints, resumes it, and compares the final weights, momentum
// and metrics with an uninterrupted run's.
func TestRunResumesAfterKill(t *testing.T) {
	torchtest.Need(t)
	threads, err := torch.NumThreads()
	if err != nil {
		t.Fatal(err)
	}
	defer torch.SetNumThreads(threads)

	whole := uninterruptedRun(t)

	killed := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), resumeEnv+"="+killed)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once a checkpoint past step 6 exists: mid-run, between saves.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		cks, _ := ListCheckpoints(CheckpointsDir(killed))
		if len(cks) > 0 && filepath.Base(cks[len(cks)-1]) >= CheckpointName(6) {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the training process wrote no checkpoint past step 6 in 2 minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		t.Fatalf("the training process was not killed mid-run (wait: %v); it finished before the kill", err)
	}
	before, err := LatestCheckpoint(CheckpointsDir(killed))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed with %s as the newest checkpoint", filepath.Base(before))
	if filepath.Base(before) >= CheckpointName(resumeSteps) {
		t.Fatalf("newest checkpoint %s is the final one: nothing left to resume", before)
	}

	if err := resumeRun(killed, true); err != nil {
		t.Fatal(err)
	}
	final := CheckpointName(resumeSteps)
	for _, f := range []string{ModelFile, OptimizerFile} {
		a, _, err := nets.LoadTensors(filepath.Join(whole, "checkpoints", final, f))
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := nets.LoadTensors(filepath.Join(killed, "checkpoints", final, f))
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) || len(a) == 0 {
			t.Fatalf("%s: %d tensors uninterrupted, %d resumed", f, len(a), len(b))
		}
		for i := range a {
			x, _ := a[i].Tensor.Bytes()
			y, _ := b[i].Tensor.Bytes()
			if a[i].Name != b[i].Name || string(x) != string(y) {
				t.Errorf("%s: tensor %s differs between the uninterrupted and the resumed run", f, a[i].Name)
			}
			a[i].Tensor.Close()
			b[i].Tensor.Close()
		}
	}
	// The metrics log reads as one run: the rows the killed process wrote
	// after its checkpoint were dropped and written again.
	wa, err := ReadMetrics(filepath.Join(whole, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	wb, err := ReadMetrics(filepath.Join(killed, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(wa) != len(wb) {
		t.Fatalf("%d metrics rows uninterrupted, %d resumed", len(wa), len(wb))
	}
	for i := range wa {
		if wa[i].Kind != wb[i].Kind || wa[i].Step != wb[i].Step || wa[i].Loss != wb[i].Loss || wa[i].LR != wb[i].LR {
			t.Errorf("metrics row %d: uninterrupted %s step %d loss %v lr %v, resumed %s step %d loss %v lr %v",
				i, wa[i].Kind, wa[i].Step, wa[i].Loss, wa[i].LR, wb[i].Kind, wb[i].Step, wb[i].Loss, wb[i].LR)
		}
	}
}

// TestRunResumesAfterKillAtURL trains into an s3:// run directory in a
// process that is killed with SIGKILL while it uploads a checkpoint (the
// service fails that upload, so the kill lands in it): the half-written
// checkpoint is not listed, a resumed run goes on from the newest complete
// one, removes the leftover, and ends with the uninterrupted local run's
// weights, momentum and metrics, bit for bit.
func TestRunResumesAfterKillAtURL(t *testing.T) {
	torchtest.Need(t)
	threads, err := torch.NumThreads()
	if err != nil {
		t.Fatal(err)
	}
	defer torch.SetNumThreads(threads)
	whole := uninterruptedRun(t)

	srv := storagetest.StartS3(t, "runs")
	srv.Env(t) // the child finds the fake through the environment
	url := srv.URL("runs", "killed")
	// The checkpoint after step 7 (an evaluation's); the newest complete one is
	// then step 6's, where a metrics row falls (LogEvery 2), so that the
	// resumed run's rows average the same steps as the uninterrupted run's.
	half := CheckpointName(7)
	srv.Faults.Set(func(r *http.Request, _ int) storagetest.Fault {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/"+half+"/"+OptimizerFile) {
			return storagetest.ServerError
		}
		return storagetest.Pass
	})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), resumeEnv+"="+url)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for srv.Faults.Injected(storagetest.ServerError) == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the training process did not start uploading %s in 2 minutes", half)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("the training process ended by itself")
	}
	srv.Faults.Set(nil)

	ctx := context.Background()
	ck, err := storage.Open(ctx, CheckpointsDir(url), srv.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	if ok, err := ck.Exists(ctx, half+"/"+ModelFile); !ok || err != nil {
		t.Fatalf("%s/%s/%s was not uploaded before the kill (%v): the kill did not land mid-checkpoint", CheckpointsDir(url), half, ModelFile, err)
	}
	before, err := LatestCheckpoint(CheckpointsDir(url))
	if err != nil {
		t.Fatal(err)
	}
	if path.Base(before) >= half {
		t.Fatalf("the newest listed checkpoint is %s: the half-written %s is visible", before, half)
	}
	t.Logf("killed while uploading %s; newest complete checkpoint %s", half, path.Base(before))

	if err := resumeRun(url, true); err != nil {
		t.Fatal(err)
	}
	complete, incomplete, err := checkpointSteps(ctx, ck)
	if err != nil {
		t.Fatal(err)
	}
	if len(incomplete) != 0 || len(complete) != 3 || complete[2] != CheckpointName(resumeSteps) {
		t.Fatalf("after the resumed run: complete %v, incomplete %v; want the 3 newest complete and none incomplete", complete, incomplete)
	}
	final := CheckpointName(resumeSteps)
	for _, f := range []string{ModelFile, OptimizerFile} {
		a, _, err := nets.LoadTensors(filepath.Join(whole, "checkpoints", final, f))
		if err != nil {
			t.Fatal(err)
		}
		local, release, err := ck.Local(ctx, final+"/"+f)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := nets.LoadTensors(local)
		release()
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) || len(a) == 0 {
			t.Fatalf("%s: %d tensors uninterrupted, %d resumed", f, len(a), len(b))
		}
		for i := range a {
			x, _ := a[i].Tensor.Bytes()
			y, _ := b[i].Tensor.Bytes()
			if a[i].Name != b[i].Name || string(x) != string(y) {
				t.Errorf("%s: tensor %s differs between the uninterrupted local run and the resumed one at %s", f, a[i].Name, url)
			}
			a[i].Tensor.Close()
			b[i].Tensor.Close()
		}
	}
	run, err := storage.Open(ctx, url, srv.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	local, release, err := run.Local(ctx, MetricsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	wa, err := ReadMetrics(filepath.Join(whole, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	wb, err := ReadMetrics(local)
	if err != nil {
		t.Fatal(err)
	}
	if len(wa) != len(wb) {
		t.Fatalf("%d metrics rows uninterrupted, %d resumed at %s", len(wa), len(wb), url)
	}
	for i := range wa {
		if wa[i].Kind != wb[i].Kind || wa[i].Step != wb[i].Step || wa[i].Loss != wb[i].Loss || wa[i].LR != wb[i].LR {
			t.Errorf("metrics row %d: uninterrupted %s step %d loss %v, resumed %s step %d loss %v", i, wa[i].Kind, wa[i].Step, wa[i].Loss, wb[i].Kind, wb[i].Step, wb[i].Loss)
		}
	}
}
