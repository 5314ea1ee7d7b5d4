package train

import (
	"math"
	"reflect"
	"testing"

	"weaksup/torch"
	"weaksup/torch/torchtest"
)

func TestTargets(t *testing.T) {
	tests := []struct {
		name   string
		labels [][]int32
		loss   string
		want   []float32
	}{
		{"c-of-K", [][]int32{{0, 2}, {1}}, LossSoftmax, []float32{0.5, 0, 0.5, 0, 0, 1, 0, 0}},
		{"c-of-K of four", [][]int32{{0, 1, 2, 3}}, LossSoftmax, []float32{0.25, 0.25, 0.25, 0.25}},
		{"repeated label counts once", [][]int32{{3, 3, 1}}, LossSoftmax, []float32{0, 0.5, 0, 0.5}},
		{"no labels: zero row", [][]int32{{}, {2}}, LossSoftmax, []float32{0, 0, 0, 0, 0, 0, 1, 0}},
		{"multi-hot", [][]int32{{0, 2}, {1}}, LossSigmoid, []float32{1, 0, 1, 0, 0, 1, 0, 0}},
	}
	for _, tt := range tests {
		dst := make([]float32, len(tt.want))
		for i := range dst {
			dst[i] = 7 // stale values from an earlier batch must go
		}
		if err := Targets(dst, tt.labels, 4, tt.loss); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !reflect.DeepEqual(dst, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, dst, tt.want)
		}
	}
	if err := Targets(make([]float32, 4), [][]int32{{4}}, 4, LossSoftmax); err == nil {
		t.Error("label 4 of 4 classes: no error")
	}
	if err := Targets(make([]float32, 3), [][]int32{{1}}, 4, LossSoftmax); err == nil {
		t.Error("short buffer: no error")
	}
	if err := CheckLoss("hinge"); err == nil {
		t.Error("CheckLoss(hinge): no error")
	}
}

// TestLossOf checks both losses against their formulas computed in Go.
func TestLossOf(t *testing.T) {
	torchtest.Need(t)
	s := torch.NewScope()
	defer s.Close()
	const n, k = 3, 5
	logits := []float32{
		1.5, -0.3, 0.2, 2.2, -1.1,
		0.0, 0.4, -2.0, 0.9, 0.3,
		-0.7, 3.1, 0.5, -0.2, 1.2,
	}
	labels := [][]int32{{0, 3}, {4}, {1, 2, 4}}
	for _, loss := range Losses {
		target := make([]float32, n*k)
		if err := Targets(target, labels, k, loss); err != nil {
			t.Fatal(err)
		}
		want := 0.0
		for i := 0; i < n; i++ {
			row := logits[i*k : (i+1)*k]
			lse := 0.0
			for _, z := range row {
				lse += math.Exp(float64(z))
			}
			lse = math.Log(lse)
			for j, z := range row {
				y, x := float64(target[i*k+j]), float64(z)
				if loss == LossSoftmax {
					want -= y * (x - lse)
				} else {
					// -[y log σ(x) + (1-y) log(1-σ(x))]
					want -= y*math.Log(1/(1+math.Exp(-x))) + (1-y)*math.Log(1/(1+math.Exp(x)))
				}
			}
		}
		want /= n
		l := LossOf(loss, torch.FromFloat32(logits, n, k), torch.FromFloat32(target, n, k))
		got, err := l.Item()
		if err != nil {
			t.Fatalf("%s: %v", loss, err)
		}
		if math.Abs(got-want) > 1e-5*math.Abs(want) {
			t.Errorf("%s loss = %.7f, want %.7f", loss, got, want)
		}
	}
}
