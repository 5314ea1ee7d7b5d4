package train

import (
	"math"
	"reflect"
	"testing"
)

func TestTopK(t *testing.T) {
	tests := []struct {
		scores []float32
		k      int
		want   []int
	}{
		{[]float32{0.1, 0.9, 0.5, 0.7}, 2, []int{1, 3}},
		{[]float32{0.1, 0.9, 0.5, 0.7}, 10, []int{1, 3, 2, 0}},
		{[]float32{1, 1, 1}, 2, []int{0, 1}}, // ties go to the lower index
		{[]float32{float32(math.NaN()), 2, 1}, 2, []int{1, 2}},
		{[]float32{-3, -1, -2}, 1, []int{1}},
		{nil, 3, []int{}},
	}
	for _, tt := range tests {
		if got := TopK(tt.scores, tt.k); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("TopK(%v, %d) = %v, want %v", tt.scores, tt.k, got, tt.want)
		}
	}
}

// apByDefinition computes average precision as the mean, over positives,
// of the precision at the rank of each positive (valid without ties).
func apByDefinition(scores []float32, pos []bool) float64 {
	order := TopK(scores, len(scores))
	tp, sum, total := 0, 0.0, 0
	for _, p := range pos {
		if p {
			total++
		}
	}
	for rank, i := range order {
		if pos[i] {
			tp++
			sum += float64(tp) / float64(rank+1)
		}
	}
	return sum / float64(total)
}

func TestAveragePrecision(t *testing.T) {
	tests := []struct {
		name   string
		scores []float32
		pos    []bool
		want   float64
	}{
		// scikit-learn's documented example: average_precision_score([0,0,1,1], [0.1,0.4,0.35,0.8]).
		{"sklearn example", []float32{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, (1.0 + 2.0/3) / 2},
		{"perfect", []float32{0.9, 0.8, 0.1}, []bool{true, true, false}, 1},
		{"worst", []float32{0.9, 0.8, 0.1, 0.2}, []bool{false, false, true, false}, 1.0 / 4},
		{"all tied", []float32{0.5, 0.5, 0.5, 0.5}, []bool{false, true, false, false}, 1.0 / 4},
		{"tie across a positive and a negative", []float32{0.9, 0.5, 0.5}, []bool{true, false, true}, 0.5 + 0.5*2.0/3},
		{"no positives", []float32{0.9, 0.5}, []bool{false, false}, 0},
	}
	for _, tt := range tests {
		if got := AveragePrecision(tt.scores, tt.pos); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: AP = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Without ties the threshold sum equals the rank definition.
	scores := []float32{0.3, 0.91, 0.12, 0.55, 0.78, 0.05, 0.66, 0.44}
	pos := []bool{true, false, false, true, true, false, false, true}
	if got, want := AveragePrecision(scores, pos), apByDefinition(scores, pos); math.Abs(got-want) > 1e-12 {
		t.Errorf("AP = %v, rank definition %v", got, want)
	}
}

func TestEvaluator(t *testing.T) {
	// Three images, six classes.
	scores := []float32{
		// image 0: labels {0, 2}; top-5 = 0, 2, 1, 3, 4 → p@1 1, p@5 2/5
		0.9, 0.5, 0.8, 0.4, 0.3, 0.1,
		// image 1: label {5}; top-5 = 0, 1, 2, 3, 5 → p@1 0, p@5 1/5
		0.9, 0.8, 0.7, 0.6, 0.1, 0.5,
		// image 2: label {4}; top-1 = 4 → p@1 1, p@5 1/5
		0.1, 0.2, 0.3, 0.4, 0.95, 0.0,
	}
	labels := [][]int32{{0, 2}, {5}, {4}}
	ev := NewEvaluator(6)
	if err := ev.Add(scores[:12], labels[:2]); err != nil {
		t.Fatal(err)
	}
	if err := ev.Add(scores[12:], labels[2:]); err != nil {
		t.Fatal(err)
	}
	ev.AddLoss(3, 2)
	ev.AddLoss(1.5, 1)
	got := ev.Result()
	col := func(c int) []float32 { return []float32{scores[c], scores[6+c], scores[12+c]} }
	// Classes 0, 2, 4, 5 have positives.
	mAP := (AveragePrecision(col(0), []bool{true, false, false}) +
		AveragePrecision(col(2), []bool{true, false, false}) +
		AveragePrecision(col(4), []bool{false, false, true}) +
		AveragePrecision(col(5), []bool{false, true, false})) / 4
	want := EvalResult{
		Images:       3,
		PrecisionAt1: 2.0 / 3,
		PrecisionAt5: (2.0/5 + 1.0/5 + 1.0/5) / 3,
		Top1:         2.0 / 3,
		Top5:         1,
		MAP:          mAP,
		Classes:      4,
		Loss:         1.5,
	}
	if math.Abs(got.PrecisionAt1-want.PrecisionAt1) > 1e-12 || math.Abs(got.PrecisionAt5-want.PrecisionAt5) > 1e-12 ||
		math.Abs(got.Top1-want.Top1) > 1e-12 || math.Abs(got.Top5-want.Top5) > 1e-12 ||
		math.Abs(got.MAP-want.MAP) > 1e-12 || got.Images != want.Images || got.Classes != want.Classes ||
		math.Abs(got.Loss-want.Loss) > 1e-12 {
		t.Errorf("Result() = %+v, want %+v", got, want)
	}
	if err := ev.Add(make([]float32, 6), [][]int32{{6}}); err == nil {
		t.Error("label 6 of 6 classes: no error")
	}
	if err := ev.Add(make([]float32, 5), [][]int32{{1}}); err == nil {
		t.Error("5 scores for 6 classes: no error")
	}
	if got := NewEvaluator(3).Result(); got.Images != 0 || got.PrecisionAt1 != 0 {
		t.Errorf("empty evaluator: %+v", got)
	}
}
