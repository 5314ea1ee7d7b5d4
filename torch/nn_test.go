package torch

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

// conv2dDirect is the textbook grouped convolution, for reference.
func conv2dDirect(x []float32, n, c, h, w int, wt []float32, o, kh, kw, stride, pad, groups int, bias []float32) ([]float32, int, int) {
	oh := (h+2*pad-kh)/stride + 1
	ow := (w+2*pad-kw)/stride + 1
	cg, og := c/groups, o/groups
	out := make([]float32, n*o*oh*ow)
	for b := 0; b < n; b++ {
		for oc := 0; oc < o; oc++ {
			g := oc / og
			for y := 0; y < oh; y++ {
				for xx := 0; xx < ow; xx++ {
					var s float64
					if bias != nil {
						s = float64(bias[oc])
					}
					for ic := 0; ic < cg; ic++ {
						for i := 0; i < kh; i++ {
							for j := 0; j < kw; j++ {
								yy, xi := y*stride-pad+i, xx*stride-pad+j
								if yy < 0 || yy >= h || xi < 0 || xi >= w {
									continue
								}
								s += float64(x[((b*c+g*cg+ic)*h+yy)*w+xi]) * float64(wt[((oc*cg+ic)*kh+i)*kw+j])
							}
						}
					}
					out[((b*o+oc)*oh+y)*ow+xx] = float32(s)
				}
			}
		}
	}
	return out, oh, ow
}

func TestConv2dMatchesDirect(t *testing.T) {
	needLib(t)
	s := NewScope()
	defer s.Close()
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name                string
		n, c, h, w, o, k    int
		stride, pad, groups int
		bias, channelsLast  bool
	}{
		{"1x1", 2, 4, 5, 5, 6, 1, 1, 0, 1, false, false},
		{"3x3 pad", 1, 3, 7, 6, 4, 3, 1, 1, 1, true, false},
		{"grouped stride 2", 2, 8, 9, 9, 8, 3, 2, 1, 4, false, false},
		{"grouped channels-last", 2, 8, 8, 8, 16, 3, 1, 1, 8, false, true},
		{"7x7 stem", 1, 3, 16, 16, 4, 7, 2, 3, 1, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			xs := randSlice(r, tc.n*tc.c*tc.h*tc.w)
			ws := randSlice(r, tc.o*(tc.c/tc.groups)*tc.k*tc.k)
			var bs []float32
			var bt *Tensor
			if tc.bias {
				bs = randSlice(r, tc.o)
				bt = FromFloat32(bs, int64(tc.o))
			}
			x := FromFloat32(xs, int64(tc.n), int64(tc.c), int64(tc.h), int64(tc.w))
			w := FromFloat32(ws, int64(tc.o), int64(tc.c/tc.groups), int64(tc.k), int64(tc.k))
			if tc.channelsLast {
				x, w = x.ToFormat(ChannelsLast), w.ToFormat(ChannelsLast)
			}
			y := Conv2d(x, w, bt, Conv2dOptions{
				Stride:  [2]int64{int64(tc.stride), int64(tc.stride)},
				Padding: [2]int64{int64(tc.pad), int64(tc.pad)},
				Groups:  int64(tc.groups),
			})
			got, err := y.Float32s()
			if err != nil {
				t.Fatal(err)
			}
			want, oh, ow := conv2dDirect(xs, tc.n, tc.c, tc.h, tc.w, ws, tc.o, tc.k, tc.k, tc.stride, tc.pad, tc.groups, bs)
			if gs := y.Shape(); gs[2] != int64(oh) || gs[3] != int64(ow) {
				t.Fatalf("shape: got %v, want [%d %d %d %d]", gs, tc.n, tc.o, oh, ow)
			}
			if i, ok := closeEnough(got, want, 1e-4, 1e-4); !ok {
				t.Errorf("element %d: got %v, want %v", i, got[i], want[i])
			}
		})
	}
}

func TestBatchNormTrainUpdatesRunningStats(t *testing.T) {
	needLib(t)
	s := NewScope()
	defer s.Close()
	r := rand.New(rand.NewPCG(3, 4))
	const n, c, hw = 3, 2, 4
	xs := randSlice(r, n*c*hw)
	for i := range xs {
		xs[i] = xs[i]*2 + 1
	}
	x := FromFloat32(xs, n, c, 2, 2)
	bn := BatchNorm{
		Weight:            FromFloat32([]float32{1.5, 0.5}, c),
		Bias:              FromFloat32([]float32{0.1, -0.2}, c),
		RunningMean:       Zeros(Float32, CPU, c),
		RunningVar:        Ones(Float32, CPU, c),
		NumBatchesTracked: Zeros(Int64, CPU),
	}
	y, err := bn.Forward(x, true).Float32s()
	if err != nil {
		t.Fatal(err)
	}
	rm, _ := bn.RunningMean.Float32s()
	rv, _ := bn.RunningVar.Float32s()
	nbt, _ := bn.NumBatchesTracked.Int64s()
	gamma, beta := []float64{1.5, 0.5}, []float64{0.1, -0.2}
	for ch := 0; ch < c; ch++ {
		var vals []float64
		for b := 0; b < n; b++ {
			for i := 0; i < hw; i++ {
				vals = append(vals, float64(xs[(b*c+ch)*hw+i]))
			}
		}
		var mean, vr float64
		for _, v := range vals {
			mean += v
		}
		mean /= float64(len(vals))
		for _, v := range vals {
			vr += (v - mean) * (v - mean)
		}
		biased := vr / float64(len(vals))
		unbiased := vr / float64(len(vals)-1)
		if got, want := float64(rm[ch]), 0.1*mean; math.Abs(got-want) > 1e-5 {
			t.Errorf("running mean[%d]: got %v, want %v", ch, got, want)
		}
		if got, want := float64(rv[ch]), 0.9+0.1*unbiased; math.Abs(got-want) > 1e-5 {
			t.Errorf("running var[%d]: got %v, want %v", ch, got, want)
		}
		for b := 0; b < n; b++ {
			for i := 0; i < hw; i++ {
				idx := (b*c+ch)*hw + i
				want := (float64(xs[idx])-mean)/math.Sqrt(biased+1e-5)*gamma[ch] + beta[ch]
				if math.Abs(float64(y[idx])-want) > 1e-4 {
					t.Errorf("y[%d]: got %v, want %v", idx, y[idx], want)
				}
			}
		}
	}
	if nbt[0] != 1 {
		t.Errorf("num batches tracked: got %d, want 1", nbt[0])
	}
	// Eval mode uses (and leaves alone) the running statistics.
	ye, _ := bn.Forward(x, false).Float32s()
	rm2, _ := bn.RunningMean.Float32s()
	for ch := 0; ch < c; ch++ {
		idx := ch * hw
		want := (float64(xs[idx])-float64(rm[ch]))/math.Sqrt(float64(rv[ch])+1e-5)*gamma[ch] + beta[ch]
		if math.Abs(float64(ye[idx])-want) > 1e-4 {
			t.Errorf("eval y[%d]: got %v, want %v", idx, ye[idx], want)
		}
		if rm2[ch] != rm[ch] {
			t.Errorf("eval changed the running mean")
		}
	}
}

func TestLossesMatchFormulas(t *testing.T) {
	needLib(t)
	s := NewScope()
	defer s.Close()
	logits := []float32{1, 2, 0.5, -1, 0, 3}
	target := []float32{0.5, 0.5, 0, 0, 0, 1}
	l := FromFloat32(logits, 2, 3)
	tg := FromFloat32(target, 2, 3)

	var ce float64
	for row := 0; row < 2; row++ {
		var lse float64
		for j := 0; j < 3; j++ {
			lse += math.Exp(float64(logits[row*3+j]))
		}
		lse = math.Log(lse)
		for j := 0; j < 3; j++ {
			ce -= float64(target[row*3+j]) * (float64(logits[row*3+j]) - lse)
		}
	}
	ce /= 2
	var bce float64
	for i, z := range logits {
		p := 1 / (1 + math.Exp(-float64(z)))
		y := float64(target[i])
		bce -= y*math.Log(p) + (1-y)*math.Log(1-p)
	}
	bce /= 6
	tests := []struct {
		name string
		got  *Tensor
		want float64
	}{
		{"soft cross-entropy", SoftCrossEntropy(l, tg), ce},
		{"log-softmax by hand", tg.Mul(l.LogSoftmax(1)).Sum().Neg().MulScalar(0.5), ce},
		{"bce with logits", BCEWithLogits(l, tg, nil, nil, ReduceMean), bce},
		{"bce summed", BCEWithLogits(l, tg, nil, nil, ReduceSum).MulScalar(1.0 / 6), bce},
	}
	for _, tc := range tests {
		got, err := tc.got.Item()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if math.Abs(got-tc.want) > 1e-5 {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	_, idx := l.TopK(2, 1, true)
	top, _ := idx.Int64s()
	if want := []int64{1, 0, 2, 1}; top[0] != want[0] || top[1] != want[1] || top[2] != want[2] || top[3] != want[3] {
		t.Errorf("topk indices: got %v, want %v", top, want)
	}
	am, _ := l.Argmax(1).Int64s()
	if am[0] != 1 || am[1] != 2 {
		t.Errorf("argmax: got %v, want [1 2]", am)
	}
}

func TestPoolsAndLinear(t *testing.T) {
	needLib(t)
	s := NewScope()
	defer s.Close()
	x := FromFloat32([]float32{
		1, 2, 3, 4,
		5, 6, 7, 8,
		9, 10, 11, 12,
		13, 14, 15, 16}, 1, 1, 4, 4)
	mp, _ := MaxPool2d(x, [2]int64{3, 3}, [2]int64{2, 2}, [2]int64{1, 1}).Float32s()
	if want := []float32{6, 8, 14, 16}; len(mp) != 4 || mp[0] != want[0] || mp[1] != want[1] || mp[2] != want[2] || mp[3] != want[3] {
		t.Errorf("max pool: got %v, want %v", mp, want)
	}
	ap, _ := AdaptiveAvgPool2d(x, 1, 1).Float32s()
	if ap[0] != 8.5 {
		t.Errorf("adaptive avg pool: got %v, want 8.5", ap)
	}
	av, _ := AvgPool2d(x, [2]int64{2, 2}, [2]int64{2, 2}, [2]int64{}).Float32s()
	if av[0] != 3.5 || av[3] != 13.5 {
		t.Errorf("avg pool: got %v", av)
	}
	in := FromFloat32([]float32{1, 2}, 1, 2)
	w := FromFloat32([]float32{1, 0, 2, 3, -1, 1}, 3, 2)
	b := FromFloat32([]float32{0.5, 0, -1}, 3)
	lin, _ := Linear(in, w, b).Float32s()
	if want := []float32{1.5, 8, 0}; lin[0] != want[0] || lin[1] != want[1] || lin[2] != want[2] {
		t.Errorf("linear: got %v, want %v", lin, want)
	}
	mm, _ := in.Matmul(FromFloat32([]float32{1, 2, 3, 4}, 2, 2)).Float32s()
	if mm[0] != 7 || mm[1] != 10 {
		t.Errorf("matmul: got %v, want [7 10]", mm)
	}
}
