package train

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weaksup/internal/testkit"
	"weaksup/nets"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train/traintest"
)

// parityTolerance is the rtol of testkit.CloseTo per precision. Both sides run the
// same libtorch kernels in the same order, and the results are
// bit-identical in fp32 and in bf16 alike on the reference machine; the
// tolerances leave room for float32 summation order only. bfloat16 keeps 8
// bits of mantissa (a relative step of 2^-8 ≈ 0.004), so the bf16 bound of
// 1e-3 still fails when any op runs in another precision than under
// PyTorch's autocast.
var parityTolerance = map[Precision]float64{PrecisionFP32: 1e-4, PrecisionBF16: 1e-3}

func TestParityWithPyTorch(t *testing.T) {
	torchtest.Need(t)
	tests := []struct {
		arch         string
		classes      int
		batch, size  int64
		channelsLast bool
		precision    Precision
	}{
		{"resnext50_32x4d", 1000, 2, 64, true, PrecisionFP32},
		{"resnext29_small", 10, 4, 32, true, PrecisionFP32},
		{"resnext29_small", 10, 4, 32, false, PrecisionFP32},
		{"resnet14", 10, 4, 32, true, PrecisionFP32},
		{"resnet14/B", 10, 4, 32, false, PrecisionFP32},
		{"plain14", 10, 4, 32, true, PrecisionFP32},
		{"resnext50_32x4d", 1000, 2, 64, true, PrecisionBF16},
		{"resnext29_small", 10, 4, 32, true, PrecisionBF16},
		{"resnext29_small", 10, 4, 32, false, PrecisionBF16},
	}
	if err := torch.SetNumThreads(2); err != nil {
		t.Fatal(err)
	}
	// Write every case's weights and inputs, run the reference once for
	// all of them (one interpreter start), then compare case by case.
	type prepared struct {
		name string
		dir  string
		m    *nets.ResNeXt
		x, r *torch.Tensor
		prec Precision
	}
	var cases []prepared
	defer func() {
		for _, c := range cases {
			c.m.Close()
			c.x.Close()
			c.r.Close()
		}
	}()
	args := []string{"testdata/parity.py", "--threads", "2"}
	for _, tc := range tests {
		name, sc, _ := strings.Cut(tc.arch, "/")
		arch, err := nets.LookupArch(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := torch.ManualSeed(11); err != nil {
			t.Fatal(err)
		}
		o := nets.Options{Arch: arch, NumClasses: tc.classes, ChannelsLast: tc.channelsLast}
		if sc != "" {
			if o.Shortcut, err = nets.ParseShortcut(sc); err != nil {
				t.Fatal(err)
			}
		}
		m, err := nets.NewResNeXt(o)
		if err != nil {
			t.Fatal(err)
		}
		c := prepared{name: fmt.Sprintf("%s/channels_last=%v/precision=%s", tc.arch, tc.channelsLast, tc.precision), dir: t.TempDir(), m: m, prec: tc.precision,
			x: torch.Randn(torch.Float32, torch.CPU, tc.batch, 3, tc.size, tc.size),
			r: torch.Randn(torch.Float32, torch.CPU, tc.batch, int64(tc.classes))}
		cases = append(cases, c)
		traintest.PerturbBatchNorm(t, m)
		aj, _ := json.Marshal(arch)
		mo := m.Options()
		meta := map[string]string{"arch": string(aj), "num_classes": fmt.Sprint(tc.classes),
			"block": mo.Block.String(), "shortcut": mo.Shortcut.String()}
		if err := m.Save(filepath.Join(c.dir, "model.safetensors"), meta); err != nil {
			t.Fatal(err)
		}
		cl := "0"
		if tc.channelsLast {
			cl = "1"
		}
		if err := nets.SaveTensors(filepath.Join(c.dir, "inputs.safetensors"), []nets.Param{{Name: "x", Tensor: c.x}, {Name: "r", Tensor: c.r}},
			map[string]string{"channels_last": cl, "precision": string(tc.precision)}); err != nil {
			t.Fatal(err)
		}
		args = append(args, c.dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, traintest.Python, args...).CombinedOutput(); err != nil {
		t.Fatalf("python reference: %v\n%s", err, out)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, x, r, dir := c.m, c.x, c.r, c.dir
			s := torch.NewScope()
			defer s.Close()

			got := map[string]*torch.Tensor{}
			if err := torch.NoGrad(func() error {
				return c.prec.Autocast(torch.CPU, func() error {
					y, err := m.Forward(x, false)
					got["eval_logits"] = y.ToDType(torch.Float32)
					return err
				})
			}); err != nil {
				t.Fatal(err)
			}
			var y *torch.Tensor
			if err := c.prec.Autocast(torch.CPU, func() error {
				var err error
				if y, err = m.Forward(x, true); err != nil {
					return err
				}
				if d, _ := y.DType(); d != c.prec.DType() {
					t.Errorf("train logits are %v, want %v", d, c.prec.DType())
				}
				y = y.ToDType(torch.Float32)
				return y.Err()
			}); err != nil {
				t.Fatal(err)
			}
			got["train_logits"] = y
			if err := y.Mul(r).Sum().Backward(); err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Parameters() {
				if p.Buffer {
					got["after."+p.Name] = p.Tensor
				} else {
					got["grad."+p.Name] = p.Tensor.Grad()
				}
			}

			want, _, err := nets.LoadTensors(filepath.Join(dir, "reference.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				for _, p := range want {
					p.Tensor.Close()
				}
			}()
			if len(want) != len(got) {
				t.Errorf("reference has %d tensors, we have %d", len(want), len(got))
			}
			var worst float64
			var worstName string
			for _, w := range want {
				g, ok := got[w.Name]
				if !ok || g == nil {
					t.Errorf("%s: missing on our side", w.Name)
					continue
				}
				if fmt.Sprint(g.Shape()) != fmt.Sprint(w.Tensor.Shape()) {
					t.Errorf("%s: shape %v, want %v", w.Name, g.Shape(), w.Tensor.Shape())
					continue
				}
				if strings.HasSuffix(w.Name, "num_batches_tracked") {
					gi, _ := g.Int64s()
					wi, _ := w.Tensor.Int64s()
					if gi[0] != wi[0] {
						t.Errorf("%s: got %d, want %d", w.Name, gi[0], wi[0])
					}
					continue
				}
				gv, err := g.Float32s()
				if err != nil {
					t.Fatalf("%s: %v", w.Name, err)
				}
				wv, _ := w.Tensor.Float32s()
				rel, at, ok := testkit.CloseTo(gv, wv, parityTolerance[c.prec])
				if !ok {
					t.Errorf("%s: element %d differs: got %v, want %v (relative error %.3g)", w.Name, at, gv[at], wv[at], rel)
				}
				if rel > worst {
					worst, worstName = rel, w.Name
				}
			}
			if worst == 0 {
				worstName = "none: bit-identical"
			}
			t.Logf("%d tensors compared; worst relative error %.3g (%s)", len(want), worst, worstName)
		})
	}
}
