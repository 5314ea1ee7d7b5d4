package finetune

import (
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"weaksup/datasets"
)

func TestAccuracyCountsTopKPerClassAndConfusion(t *testing.T) {
	// 6 classes; each row's true class and where it ranks.
	rows := []struct {
		scores []float32
		label  int32
	}{
		{[]float32{9, 1, 2, 3, 4, 5}, 0}, // rank 1
		{[]float32{1, 9, 8, 3, 4, 5}, 2}, // rank 2, predicted 1
		{[]float32{1, 2, 3, 4, 5, 9}, 0}, // rank 6: outside top-5, predicted 5
		{[]float32{5, 5, 1, 1, 1, 1}, 1}, // tie: class 0 wins, class 1 rank 2
		{[]float32{0, 0, 0, 0, 0, 7}, 5}, // rank 1
		{[]float32{6, 5, 4, 3, 2, 1}, 4}, // rank 5
	}
	a := NewAccuracy(6)
	for _, r := range rows[:3] {
		if err := a.Add(r.scores, []int32{r.label}); err != nil {
			t.Fatal(err)
		}
	}
	var rest []float32
	var labels []int32
	for _, r := range rows[3:] {
		rest = append(rest, r.scores...)
		labels = append(labels, r.label)
	}
	if err := a.Add(rest, labels); err != nil {
		t.Fatal(err)
	}
	classes := []datasets.Class{{ID: "a", Name: "A"}, {ID: "b", Name: "B"}, {ID: "c", Name: "C"}, {ID: "d", Name: "D"}, {ID: "e", Name: "E"}, {ID: "f", Name: "F"}}
	m := a.Metrics(classes)
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	near("top1", m.Top1, 2.0/6)
	near("top5", m.Top5, 5.0/6)
	// Per-class top-1: class 0: 1/2, 1: 0/1, 2: 0/1, 4: 0/1, 5: 1/1.
	near("mean per class", m.MeanPerClass, (0.5+0+0+0+1)/5)
	if got, want := m.PerClass[0], (ClassMetrics{ID: "a", Name: "A", Images: 2, Top1: 0.5, Top5: 0.5}); got != want {
		t.Errorf("class 0: got %+v, want %+v", got, want)
	}
	if got, want := m.PerClass[3].Images, 0; got != want {
		t.Errorf("class 3 images: got %d, want %d", got, want)
	}
	want := [][]int64{
		{1, 0, 0, 0, 0, 1},
		{1, 0, 0, 0, 0, 0},
		{0, 1, 0, 0, 0, 0},
		{0, 0, 0, 0, 0, 0},
		{1, 0, 0, 0, 0, 0},
		{0, 0, 0, 0, 0, 1},
	}
	if !reflect.DeepEqual(m.Confusion, want) {
		t.Errorf("confusion: got %v, want %v", m.Confusion, want)
	}
}

func TestAccuracyRejectsBadInput(t *testing.T) {
	a := NewAccuracy(3)
	if err := a.Add([]float32{1, 2}, []int32{0}); err == nil {
		t.Error("2 scores for 1 image × 3 classes: got no error")
	}
	if err := a.Add([]float32{1, 2, 3}, []int32{3}); err == nil {
		t.Error("class 3 of 3: got no error")
	}
	if a.Images() != 0 {
		t.Errorf("rejected batches counted: got %d images, want 0", a.Images())
	}
}

func TestConfusionOmittedAboveLimit(t *testing.T) {
	a := NewAccuracy(MaxConfusionClasses + 1)
	if m := a.Metrics(nil); m.Confusion != nil {
		t.Errorf("%d classes: got a confusion matrix, want none", MaxConfusionClasses+1)
	}
}

func TestMetricsJSONRoundTrip(t *testing.T) {
	a := NewAccuracy(2)
	if err := a.Add([]float32{1, 0, 0, 1, 1, 0}, []int32{0, 1, 1}); err != nil {
		t.Fatal(err)
	}
	m := a.Metrics([]datasets.Class{{ID: "x", Name: "X"}, {ID: "y", Name: "Y"}})
	m.Task, m.Split, m.From = datasets.ImageFolder, datasets.SplitVal, "none"
	path := filepath.Join(t.TempDir(), "metrics.json")
	if err := WriteMetrics(path, &m); err != nil {
		t.Fatal(err)
	}
	got, err := readMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, m) {
		t.Errorf("round trip: got %+v, want %+v", *got, m)
	}
}
