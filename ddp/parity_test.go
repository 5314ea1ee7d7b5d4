package ddp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weaksup/internal/testkit"
	"weaksup/loader"
	"weaksup/nets"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train"
	"weaksup/train/traintest"
)

// The PyTorch side of TestDataParallelMatchesPyTorchDDP.
const ddpReference = "testdata/ddp_reference.py"

// fixedBatches serves the batches a test wrote for one rank: images
// x.<rank>.<step> [B,3,S,S] and multi-hot labels labels.<rank>.<step> [B,K].
type fixedBatches struct {
	xs     [][]float32
	labels [][][]int32
	size   int
	k      int
	next   int
}

func openFixedBatches(dir string, rank, k int) (*fixedBatches, error) {
	ps, _, err := nets.LoadTensors(filepath.Join(dir, "batches.safetensors"))
	if err != nil {
		return nil, err
	}
	byName := map[string]*torch.Tensor{}
	for _, p := range ps {
		byName[p.Name] = p.Tensor
		defer p.Tensor.Close()
	}
	fb := &fixedBatches{k: k}
	for step := 0; ; step++ {
		x, ok := byName[fmt.Sprintf("x.%d.%d", rank, step)]
		if !ok {
			break
		}
		v, err := x.Float32s()
		if err != nil {
			return nil, err
		}
		fb.size = int(x.Shape()[2])
		mh, err := byName[fmt.Sprintf("labels.%d.%d", rank, step)].Int64s()
		if err != nil {
			return nil, err
		}
		var ls [][]int32
		for i := 0; i < len(mh)/k; i++ {
			var l []int32
			for j := range k {
				if mh[i*k+j] != 0 {
					l = append(l, int32(j))
				}
			}
			ls = append(ls, l)
		}
		fb.xs = append(fb.xs, v)
		fb.labels = append(fb.labels, ls)
	}
	if len(fb.xs) == 0 {
		return nil, fmt.Errorf("no batches for rank %d in %s", rank, dir)
	}
	return fb, nil
}

func (f *fixedBatches) Next(context.Context) (*loader.Batch, error) {
	if f.next >= len(f.xs) {
		return nil, io.EOF
	}
	i := f.next
	f.next++
	return &loader.Batch{N: len(f.labels[i]), Size: f.size, Classes: f.k, Images: f.xs[i], Labels: f.labels[i]}, nil
}

func (f *fixedBatches) Position() loader.Position { return loader.Position{Consumed: f.next, World: 1} }
func (f *fixedBatches) StepsPerEpoch() int        { return len(f.xs) }
func (f *fixedBatches) NumClasses() int           { return f.k }
func (f *fixedBatches) Close() error              { return nil }

// TestDataParallelMatchesPyTorchDDP trains two ranks of ours and two ranks
// of PyTorch's DistributedDataParallel (Debian's python3-torch, gloo) from
// the same initial weights on the same per-rank batches, with the same SGD,
// and compares every parameter and buffer after the last step. Both sides
// run the same libtorch kernels and average with the same arithmetic (each
// gradient × 1/2, then summed), so they agree bit for bit; the test allows
// a relative 1e-6.
func TestDataParallelMatchesPyTorchDDP(t *testing.T) {
	torchtest.Need(t)
	const (
		steps, batch, px, k = 3, 4, 16, 4
		lr                  = 0.05
	)
	dir := t.TempDir()
	if err := torch.SetNumThreads(1); err != nil {
		t.Fatal(err)
	}
	// The starting weights: the tiny net with its batch-norm parameters
	// and statistics perturbed, so none is trivial.
	job := ddpJob{Block: "bottleneck"}
	m, _, _, err := ddpModelAndData(job, train.Alone{}.Part())
	if err != nil {
		t.Fatal(err)
	}
	traintest.PerturbBatchNorm(t, m)
	aj, _ := json.Marshal(m.Options().Arch)
	err = m.Save(filepath.Join(dir, "init.safetensors"), map[string]string{"arch": string(aj), "num_classes": fmt.Sprint(k)})
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := torch.ManualSeed(17); err != nil {
		t.Fatal(err)
	}
	var batches []nets.Param
	for rank := range 2 {
		for step := range steps {
			x := torch.Keep(torch.Randn(torch.Float32, torch.CPU, batch, 3, px, px))
			mh := make([]int64, batch*k)
			for i := range batch {
				mh[i*k+(i+rank+step)%k] = 1
				if i%2 == 0 {
					mh[i*k+(i+step+1)%k] = 1
				}
			}
			batches = append(batches, nets.Param{Name: fmt.Sprintf("x.%d.%d", rank, step), Tensor: x},
				nets.Param{Name: fmt.Sprintf("labels.%d.%d", rank, step), Tensor: torch.FromInt64(mh, batch, k)})
		}
	}
	err = nets.SaveTensors(filepath.Join(dir, "batches.safetensors"), batches, map[string]string{
		"steps": fmt.Sprint(steps), "lr": fmt.Sprint(lr), "momentum": "0.9", "weight_decay": "0.0001", "channels_last": "1"})
	for _, p := range batches {
		p.Tensor.Close()
	}
	if err != nil {
		t.Fatal(err)
	}

	ours := filepath.Join(dir, "ours")
	// BaseLR × global batch / 256 = lr.
	mustLaunchDDP(t, ddpJob{Out: ours, Steps: steps, Batch: batch, Block: "bottleneck", LR: lr * train.ReferenceBatch / (2 * batch), Fixed: dir}, 2)

	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err = LaunchLocal(ctx, LaunchOptions{N: 2, Exe: traintest.Python, Args: []string{ddpReference, dir},
		Env: append(os.Environ(), "GLOO_SOCKET_IFNAME=lo"), Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("PyTorch DistributedDataParallel: %v\n%s", err, out.String())
	}

	want, _, err := nets.LoadTensors(filepath.Join(dir, "pytorch.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := nets.LoadTensors(filepath.Join(train.CheckpointsDir(ours), train.CheckpointName(steps), train.ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, p := range append(want, got...) {
			p.Tensor.Close()
		}
	}()
	byName := map[string]*torch.Tensor{}
	for _, p := range got {
		byName[p.Name] = p.Tensor
	}
	if len(want) != len(got) {
		t.Fatalf("PyTorch's state_dict has %d tensors, ours %d", len(want), len(got))
	}
	const rtol = 1e-6
	worst, identical := 0.0, true
	for _, w := range want {
		g := byName[w.Name]
		if g == nil {
			t.Errorf("%s: missing on our side", w.Name)
			continue
		}
		gb, _ := g.Bytes()
		wb, _ := w.Tensor.Bytes()
		if string(gb) == string(wb) {
			continue
		}
		identical = false
		if strings.HasSuffix(w.Name, "num_batches_tracked") {
			t.Errorf("%s differs", w.Name)
			continue
		}
		gv, _ := g.Float32s()
		wv, _ := w.Tensor.Float32s()
		rel, at, ok := testkit.CloseTo(gv, wv, rtol)
		if !ok {
			t.Errorf("%s: element %d: ours %v, DistributedDataParallel %v (relative error %.3g)", w.Name, at, gv[at], wv[at], rel)
		}
		worst = math.Max(worst, rel)
	}
	if identical {
		t.Logf("%d tensors after %d steps: bit-identical to DistributedDataParallel", len(want), steps)
	} else {
		t.Logf("%d tensors after %d steps: worst relative difference %.3g (tolerance %g)", len(want), steps, worst, rtol)
	}
}
