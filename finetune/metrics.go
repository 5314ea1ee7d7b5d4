package finetune

import (
	"encoding/json"
	"fmt"
	"os"

	"weaksup/atomicfile"
	"weaksup/datasets"
	"weaksup/train"
)

// MaxConfusionClasses is the largest class count for which Metrics keeps
// the confusion matrix and eval draws it.
const MaxConfusionClasses = 200

// Accuracy accumulates single-label classification results batch by
// batch: top-1 and top-5 hits overall and per class, and the top-1
// confusion matrix. It keeps counts, not scores, so it runs over any number
// of images in O(K²) memory. It is not safe for concurrent use.
type Accuracy struct {
	k          int
	n          int
	top1, top5 int
	perN       []int
	per1, per5 []int
	confusion  []int64 // k×k, row = true class, column = top-1 prediction
}

// NewAccuracy returns an accumulator for k classes.
func NewAccuracy(k int) *Accuracy {
	return &Accuracy{k: k, perN: make([]int, k), per1: make([]int, k), per5: make([]int, k), confusion: make([]int64, k*k)}
}

// Add records the scores (n×k row-major logits or probabilities; only their
// order matters, ties go to the lower class) and the true classes of n
// images.
func (a *Accuracy) Add(scores []float32, labels []int32) error {
	if len(scores) != len(labels)*a.k {
		return fmt.Errorf("add scores: %d values for %d images × %d classes", len(scores), len(labels), a.k)
	}
	for i, c := range labels {
		if c < 0 || int(c) >= a.k {
			return fmt.Errorf("add scores: image %d has class %d outside [0,%d)", a.n+i, c, a.k)
		}
	}
	for i, c := range labels {
		top := train.TopK(scores[i*a.k:(i+1)*a.k], 5)
		a.n++
		a.perN[c]++
		a.confusion[int(c)*a.k+top[0]]++
		for j, p := range top {
			if int32(p) == c {
				if j == 0 {
					a.top1++
					a.per1[c]++
				}
				a.top5++
				a.per5[c]++
				break
			}
		}
	}
	return nil
}

// Images is the number of images added.
func (a *Accuracy) Images() int { return a.n }

// Metrics are the evaluation results that eval writes as metrics.json.
type Metrics struct {
	Task    string  `json:"task"`
	Data    string  `json:"data"`
	Split   string  `json:"split"`
	From    string  `json:"from"`           // the weights evaluated
	Mode    string  `json:"mode,omitempty"` // full or linear, when known
	Images  int     `json:"images"`
	Classes int     `json:"classes"`
	Top1    float64 `json:"top1"`
	Top5    float64 `json:"top5"`
	// MeanPerClass is the mean of the per-class top-1 accuracies over the
	// classes that have images (the CUB and Places literature's "mean class
	// accuracy").
	MeanPerClass float64        `json:"mean_per_class"`
	PerClass     []ClassMetrics `json:"per_class"`
	// Confusion is the top-1 confusion matrix (row = true class, column =
	// prediction), kept for at most MaxConfusionClasses classes.
	Confusion [][]int64 `json:"confusion,omitempty"`
	Plot      string    `json:"confusion_plot,omitempty"` // file name of the PNG beside the JSON
}

// ClassMetrics is one class's share of Metrics.
type ClassMetrics struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Images int     `json:"images"`
	Top1   float64 `json:"top1"`
	Top5   float64 `json:"top5"`
}

// Metrics computes the results for classes (len k, in class-index order).
func (a *Accuracy) Metrics(classes []datasets.Class) Metrics {
	m := Metrics{Images: a.n, Classes: a.k, Top1: frac(a.top1, a.n), Top5: frac(a.top5, a.n)}
	withImages := 0
	for c := range a.k {
		cm := ClassMetrics{Images: a.perN[c], Top1: frac(a.per1[c], a.perN[c]), Top5: frac(a.per5[c], a.perN[c])}
		if c < len(classes) {
			cm.ID, cm.Name = classes[c].ID, classes[c].Name
		}
		if cm.Images > 0 {
			withImages++
			m.MeanPerClass += cm.Top1
		}
		m.PerClass = append(m.PerClass, cm)
	}
	if withImages > 0 {
		m.MeanPerClass /= float64(withImages)
	}
	if a.k <= MaxConfusionClasses {
		m.Confusion = make([][]int64, a.k)
		for c := range a.k {
			m.Confusion[c] = append([]int64(nil), a.confusion[c*a.k:(c+1)*a.k]...)
		}
	}
	return m
}

func frac(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// WriteMetrics writes m as indented JSON to path atomically.
func WriteMetrics(path string, m *Metrics) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write metrics %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, append(b, '\n')); err != nil {
		return fmt.Errorf("write metrics %s: %w", path, err)
	}
	return nil
}

// readMetrics reads a metrics JSON file written by WriteMetrics.
func readMetrics(path string) (*Metrics, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	var m Metrics
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read metrics %s: %w", path, err)
	}
	return &m, nil
}
