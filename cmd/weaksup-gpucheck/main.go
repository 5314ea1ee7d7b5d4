// Command weaksup-gpucheck makes what scripts/gpu-check compares on a CUDA
// host that has PyTorch but no Go: generated shards for `weaksup pretrain`,
// and one training step of a network in each precision, with the weights
// and inputs it started from, for scripts/gpu-check.py to repeat in PyTorch.
//
//	weaksup-gpucheck shards --out DIR --images N --size PIXELS --classes K
//	weaksup-gpucheck step --out DIR --arch NAME --size PIXELS --batch N --device cuda --precisions fp32,bf16,fp16
//	weaksup-gpucheck group --device cuda --backend nccl
//	weaksup-gpucheck arch NAME
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"weaksup/nets"
	"weaksup/shards"
	"weaksup/torch"
	"weaksup/train"
)

const usage = `Usage:
  weaksup-gpucheck shards --out DIR [--images N] [--val N] [--size PIXELS] [--classes K] [--seed S]
  weaksup-gpucheck step --out DIR --arch NAME [--size PIXELS] [--batch N] [--classes K] [--device cuda] [--precisions fp32,bf16,fp16]
  weaksup-gpucheck group [--device cuda] [--backend nccl]
  weaksup-gpucheck arch NAME
`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "weaksup-gpucheck:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("bad usage")

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("no command: %w", errUsage)
	}
	switch args[0] {
	case "shards":
		return shardsCmd(args[1:], out)
	case "step":
		return stepCmd(args[1:], out)
	case "group":
		return groupCmd(args[1:], out)
	case "arch":
		if len(args) != 2 {
			return fmt.Errorf("arch takes one name: %w", errUsage)
		}
		a, err := nets.LookupArch(args[1])
		if err != nil {
			return err
		}
		return json.NewEncoder(out).Encode(a)
	}
	return fmt.Errorf("unknown command %q: %w", args[0], errUsage)
}

// shardsCmd writes a train and a val split of generated images: each class
// is a colour, and an image of classes a and b is a disc of a's colour on a
// background of b's, at a random place and size, with noise, so a network
// learns the labels within a few hundred steps.
func shardsCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("shards", flag.ContinueOnError)
	dir := fs.String("out", "", "shard directory to write")
	n := fs.Int("images", 4096, "train images")
	nVal := fs.Int("val", 256, "held-out images")
	size := fs.Int("size", 32, "image side in pixels")
	k := fs.Int("classes", 16, "classes (hashtags)")
	seed := fs.Uint64("seed", 1, "seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *dir == "":
		return errors.New("shards: no --out directory")
	case *n < 1 || *nVal < 1 || *size < 8 || *k < 2:
		return fmt.Errorf("shards: --images %d --val %d --size %d --classes %d, want ≥ 1, ≥ 1, ≥ 8, ≥ 2", *n, *nVal, *size, *k)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", *dir, err)
	}
	m := &shards.Manifest{Version: 1, Created: time.Now().UTC(), Config: shards.DefaultConfig(), NumClasses: *k,
		Splits: map[string]*shards.Split{}}
	palette := make([]color.RGBA, *k)
	for c := range palette {
		m.Tags = append(m.Tags, fmt.Sprintf("colour%d", c))
		h := float64(c) / float64(*k)
		palette[c] = color.RGBA{uint8(127 + 120*math.Cos(2*math.Pi*h)), uint8(127 + 120*math.Cos(2*math.Pi*(h+1.0/3))),
			uint8(127 + 120*math.Cos(2*math.Pi*(h+2.0/3))), 255}
	}
	rng := rand.New(rand.NewPCG(*seed, 0x5eed))
	for _, sp := range []struct {
		name, file string
		rows       int
	}{{shards.SplitTrain, "shard-00000.arrow", *n}, {shards.SplitVal, "val-00000.arrow", *nVal}} {
		path := filepath.Join(*dir, sp.file)
		w, err := shards.CreateShard(path)
		if err != nil {
			return err
		}
		split := &shards.Split{TagCounts: make([]int64, *k)}
		for i := range sp.rows {
			a, b := rng.IntN(*k), rng.IntN(*k)
			img, err := drawImage(rng, *size, palette[a], palette[b])
			if err != nil {
				w.Abort()
				return err
			}
			row := shards.Row{Key: fmt.Sprintf("%s-%d", sp.name, i), Image: img, Width: int32(*size), Height: int32(*size)}
			for _, l := range []int{a, b} {
				if len(row.Labels) == 1 && int(row.Labels[0]) == l {
					continue
				}
				row.Labels = append(row.Labels, int32(l))
				row.Tags = append(row.Tags, m.Tags[l])
				split.TagCounts[l]++
			}
			if err := w.Append(&row); err != nil {
				w.Abort()
				return fmt.Errorf("write %s: %w", path, err)
			}
		}
		info, err := w.Close()
		if err != nil {
			return fmt.Errorf("close %s: %w", path, err)
		}
		split.Shards, split.Rows, split.Bytes = []shards.ShardInfo{info}, info.Rows, info.Bytes
		m.Splits[sp.name] = split
	}
	if err := shards.WriteManifest(*dir, m); err != nil {
		return err
	}
	fmt.Fprintf(out, "shards: %d train and %d val images of %d px, %d classes, in %s\n", *n, *nVal, *size, *k, *dir)
	return nil
}

func drawImage(rng *rand.Rand, size int, fg, bg color.RGBA) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	r := float64(size) * (0.15 + 0.2*rng.Float64())
	cx, cy := r+rng.Float64()*(float64(size)-2*r), r+rng.Float64()*(float64(size)-2*r)
	for y := range size {
		for x := range size {
			c := bg
			if dx, dy := float64(x)-cx, float64(y)-cy; dx*dx+dy*dy <= r*r {
				c = fg
			}
			noise := func(v uint8) uint8 { return uint8(min(255, max(0, int(v)+rng.IntN(31)-15))) }
			img.SetRGBA(x, y, color.RGBA{noise(c.R), noise(c.G), noise(c.B), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		return nil, fmt.Errorf("encode a generated image: %w", err)
	}
	return buf.Bytes(), nil
}

// stepCmd writes, for each precision, DIR/ARCH-PRECISION/ with the network's
// starting weights (model.safetensors, torchvision names, batch-norm
// statistics and affine parameters randomized), its inputs
// (inputs.safetensors: images x and target distribution t) and what one
// SGD step did on the device (weaksup.safetensors: the logits, every
// gradient after unscaling, every parameter and buffer after the step),
// as the training loop does it: autocast for the forward pass, the c-of-K
// softmax loss in fp32, GradScaler for fp16.
func stepCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("step", flag.ContinueOnError)
	dir := fs.String("out", "", "directory to write the cases into")
	archName := fs.String("arch", "tiny", "architecture")
	size := fs.Int64("size", 32, "image side in pixels")
	batch := fs.Int64("batch", 8, "images")
	classes := fs.Int("classes", 100, "classes")
	devName := fs.String("device", "cuda", "device")
	precs := fs.String("precisions", "fp32,bf16,fp16", "precisions, comma-separated")
	seed := fs.Uint64("seed", 11, "seed of the weights and inputs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("step: no --out directory")
	}
	arch, err := nets.LookupArch(*archName)
	if err != nil {
		return fmt.Errorf("step: --arch: %w", err)
	}
	dev, err := torch.ParseDevice(*devName)
	if err != nil {
		return fmt.Errorf("step: --device: %w", err)
	}
	if err := torch.CheckDevice(dev); err != nil {
		return err
	}
	for _, name := range strings.Split(*precs, ",") {
		var p train.Precision
		if err := p.Set(name); err != nil {
			return fmt.Errorf("step: --precisions %q: %w", name, err)
		}
		if err := p.Check(dev); err != nil {
			return fmt.Errorf("step: %w", err)
		}
		d := filepath.Join(*dir, *archName+"-"+string(p))
		if err := step(d, arch, *archName, *classes, *batch, *size, dev, p, *seed); err != nil {
			return fmt.Errorf("step %s %s: %w", *archName, p, err)
		}
		fmt.Fprintf(out, "step: %s in %s on %s written to %s\n", *archName, p, dev, d)
	}
	return nil
}

// The step's optimizer: the recipe's SGD at a learning rate large enough
// to move every weight visibly.
const (
	stepLR   = 0.1
	stepMom  = 0.9
	stepWD   = 1e-4
	stepSeed = 7
)

func step(dir string, arch nets.Arch, archName string, classes int, batch, size int64, dev torch.Device, p train.Precision, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s := torch.NewScope()
	defer s.Close()
	if err := torch.ManualSeed(seed); err != nil {
		return err
	}
	m, err := nets.NewResNeXt(nets.Options{Arch: arch, NumClasses: classes, ChannelsLast: true, Device: dev})
	if err != nil {
		return err
	}
	defer m.Close()
	if err := perturbBatchNorm(m, dev); err != nil {
		return err
	}
	aj, err := json.Marshal(arch)
	if err != nil {
		return err
	}
	mo := m.Options()
	meta := map[string]string{"arch": string(aj), "arch_name": archName, "num_classes": fmt.Sprint(classes),
		"block": mo.Block.String(), "shortcut": mo.Shortcut.String()}
	if err := m.Save(filepath.Join(dir, "model.safetensors"), meta); err != nil {
		return err
	}
	x := torch.Randn(torch.Float32, torch.CPU, batch, 3, size, size)
	t := torch.Rand(torch.Float32, torch.CPU, batch, int64(classes)).Softmax(1)
	inMeta := map[string]string{"precision": string(p), "lr": fmt.Sprint(stepLR), "momentum": fmt.Sprint(stepMom),
		"weight_decay": fmt.Sprint(stepWD), "loss_scale": "0"}
	scaler, err := train.NewGradScaler(train.DefaultLossScaling())
	if err != nil {
		return err
	}
	if p.LossScaled() {
		inMeta["loss_scale"] = fmt.Sprint(scaler.Scale())
	}
	if err := nets.SaveTensors(filepath.Join(dir, "inputs.safetensors"), []nets.Param{{Name: "x", Tensor: x}, {Name: "t", Tensor: t}}, inMeta); err != nil {
		return err
	}
	xd, td := x.To(dev).ToFormat(torch.ChannelsLast), t.To(dev)
	var params []nets.Param
	for _, q := range m.Parameters() {
		if !q.Buffer {
			params = append(params, q)
		}
	}
	opt, err := train.NewOptimizer(params, train.SGDConfig{Momentum: stepMom, WeightDecay: stepWD})
	if err != nil {
		return err
	}
	got := []nets.Param{}
	var logits *torch.Tensor
	if err := p.Autocast(dev, func() error {
		y, err := m.Forward(xd, true)
		logits = y.ToDType(torch.Float32)
		return err
	}); err != nil {
		return err
	}
	loss := train.LossOf("softmax", logits, td)
	if p.LossScaled() {
		loss = scaler.ScaleLoss(loss)
	}
	if err := loss.Backward(); err != nil {
		return err
	}
	got = append(got, nets.Param{Name: "logits", Tensor: logits})
	if p.LossScaled() {
		if found, err := scaler.Unscale(opt.Params()); err != nil || found {
			return fmt.Errorf("unscale the gradients: found inf %v, %v", found, err)
		}
	}
	for _, q := range params {
		got = append(got, nets.Param{Name: "grad." + q.Name, Tensor: q.Tensor.Grad().Clone()})
	}
	if err := opt.Step(stepLR); err != nil {
		return err
	}
	for _, q := range m.Parameters() {
		got = append(got, nets.Param{Name: "after." + q.Name, Tensor: q.Tensor})
	}
	for i := range got {
		got[i].Tensor = got[i].Tensor.To(torch.CPU)
	}
	return nets.SaveTensors(filepath.Join(dir, "weaksup.safetensors"), got, nil)
}

// perturbBatchNorm gives every batch-norm scale, shift and running
// statistic a random value, so that every gradient is non-trivial.
func perturbBatchNorm(m *nets.ResNeXt, dev torch.Device) error {
	s := torch.NewScope()
	defer s.Close()
	rng := rand.New(rand.NewPCG(stepSeed, 1))
	return torch.NoGrad(func() error {
		for _, p := range m.Parameters() {
			isBN := strings.Contains(p.Name, "bn") || strings.Contains(p.Name, "downsample.1")
			if !isBN || strings.HasSuffix(p.Name, "num_batches_tracked") {
				continue
			}
			n := int64(1)
			shape := p.Tensor.Shape()
			for _, d := range shape {
				n *= d
			}
			v := make([]float32, n)
			for i := range v {
				switch {
				case strings.HasSuffix(p.Name, "running_var"):
					v[i] = 0.5 + rng.Float32()
				case strings.HasSuffix(p.Name, "weight"):
					v[i] = 1 + 0.2*float32(rng.NormFloat64())
				default:
					v[i] = 0.2 * float32(rng.NormFloat64())
				}
			}
			if err := p.Tensor.CopyFrom(torch.FromFloat32(v, shape...).To(dev)); err != nil {
				return fmt.Errorf("perturb %s: %w", p.Name, err)
			}
		}
		return nil
	})
}

// groupCmd runs every collective the training loop uses on a process group
// of one rank (a world that `weaksup pretrain` never makes a group for):
// broadcast, allreduce, gather, barrier, and the Reducer over a network's
// gradients, checking each result.
func groupCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("group", flag.ContinueOnError)
	devName := fs.String("device", "cuda", "device")
	backend := fs.String("backend", torch.BackendNCCL, "process-group backend")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dev, err := torch.ParseDevice(*devName)
	if err != nil {
		return fmt.Errorf("group: --device: %w", err)
	}
	if err := torch.CheckDevice(dev); err != nil {
		return err
	}
	const timeout = 2 * time.Minute
	st, err := torch.NewStore(torch.StoreOptions{Host: "127.0.0.1", Server: true, Timeout: timeout})
	if err != nil {
		return err
	}
	defer st.Close()
	g, err := torch.NewGroup(st, torch.GroupOptions{Backend: *backend, Rank: 0, World: 1, Timeout: timeout, GlooHost: "127.0.0.1"})
	if err != nil {
		return err
	}
	defer g.Close()
	s := torch.NewScope()
	defer s.Close()
	x := torch.FromFloat32([]float32{1, 2, 3, 4}, 4).To(dev)
	if err := g.Broadcast([]*torch.Tensor{x}, 0, 1<<20); err != nil {
		return fmt.Errorf("broadcast: %w", err)
	}
	if err := g.AllReduce([]*torch.Tensor{x}, torch.DistSum); err != nil {
		return fmt.Errorf("allreduce: %w", err)
	}
	if v, err := x.Float32s(); err != nil || fmt.Sprint(v) != "[1 2 3 4]" {
		return fmt.Errorf("allreduce over one rank: got %v, %v, want [1 2 3 4]", v, err)
	}
	all, err := g.Gather(x, 0)
	if err != nil {
		return fmt.Errorf("gather: %w", err)
	}
	if sh := all.Shape(); len(sh) != 2 || sh[0] != 1 || sh[1] != 4 {
		return fmt.Errorf("gather over one rank: shape %v, want [1 4]", sh)
	}
	if err := g.Barrier(); err != nil {
		return fmt.Errorf("barrier: %w", err)
	}
	arch, err := nets.LookupArch("tiny")
	if err != nil {
		return err
	}
	m, err := nets.NewResNeXt(nets.Options{Arch: arch, NumClasses: 10, ChannelsLast: true, Device: dev})
	if err != nil {
		return err
	}
	defer m.Close()
	r, err := torch.NewReducer(g, m.Trainable(), 25<<20, 1<<20)
	if err != nil {
		return fmt.Errorf("reducer: %w", err)
	}
	defer r.Close()
	for i := range 2 { // the second backward runs on the rebuilt buckets
		if err := r.Prepare(); err != nil {
			return fmt.Errorf("reducer prepare: %w", err)
		}
		y, err := m.Forward(torch.Randn(torch.Float32, dev, 4, 3, 32, 32).ToFormat(torch.ChannelsLast), true)
		if err != nil {
			return err
		}
		if err := y.Square().Mean().Backward(); err != nil {
			return fmt.Errorf("backward %d through the reducer: %w", i+1, err)
		}
	}
	rs, err := r.Stats()
	if err != nil {
		return err
	}
	if rs.Buckets == 0 || rs.Bytes == 0 {
		return fmt.Errorf("the reducer reduced nothing: %+v", rs)
	}
	fmt.Fprintf(out, "group: %s on %s, one rank: broadcast, allreduce, gather, barrier, and the reducer (%d buckets, %d bytes) work\n",
		*backend, dev, rs.Buckets, rs.Bytes)
	return nil
}
