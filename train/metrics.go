package train

import (
	"fmt"
	"math"
	"sort"
)

// EvalResult holds held-out metrics over a set of images with label sets.
type EvalResult struct {
	Images int `json:"images"`
	// PrecisionAt1 and PrecisionAt5 are the mean over images of the
	// fraction of the top-1 / top-5 predicted classes that are among the
	// image's labels: the paper's hashtag-prediction precision@k. With one
	// label per image precision@5 is at most 1/5.
	PrecisionAt1 float64 `json:"precision_at_1"`
	PrecisionAt5 float64 `json:"precision_at_5"`
	// Top1 and Top5 are the fraction of images with at least one label
	// among the top-1 / top-5 predictions: the accuracy of single-label
	// target tasks.
	Top1 float64 `json:"top1"`
	Top5 float64 `json:"top5"`
	// MAP is the mean over classes with at least one positive image of
	// the average precision of ranking the images by that class's score.
	MAP     float64 `json:"map"`
	Classes int     `json:"map_classes"` // classes MAP averages over
	// ClassAP is the average precision of each class (0 for a class
	// without positives) and ClassPositives its number of positive images:
	// per-tag AP in pretraining, where precision@1 is dominated by the most
	// frequent tags.
	ClassAP        []float64 `json:"per_class_ap,omitempty"`
	ClassPositives []int     `json:"per_class_positives,omitempty"`
	Loss           float64   `json:"val_loss"` // mean loss over images, when the evaluator was given losses
}

// Evaluator accumulates scores and label sets batch by batch and computes
// an EvalResult. It keeps every score (images × classes float32s) for the
// mean average precision.
type Evaluator struct {
	k       int
	scores  []float32
	labels  [][]int32
	lossSum float64
	lossN   int
}

// NewEvaluator returns an evaluator for k classes.
func NewEvaluator(k int) *Evaluator { return &Evaluator{k: k} }

// Add records the scores (n×k, row-major; logits or probabilities, only
// their order matters) and label sets of n images. Labels outside [0, k)
// are an error naming the image.
func (e *Evaluator) Add(scores []float32, labels [][]int32) error {
	n := len(labels)
	if len(scores) != n*e.k {
		return fmt.Errorf("add scores: %d values for %d images × %d classes", len(scores), n, e.k)
	}
	base := len(e.labels)
	for i, ls := range labels {
		for _, l := range ls {
			if l < 0 || int(l) >= e.k {
				return fmt.Errorf("add scores: image %d has label %d outside [0,%d)", base+i, l, e.k)
			}
		}
		e.labels = append(e.labels, append([]int32(nil), ls...))
	}
	e.scores = append(e.scores, scores...)
	return nil
}

// AddLoss records the summed loss of n images.
func (e *Evaluator) AddLoss(sum float64, n int) {
	e.lossSum += sum
	e.lossN += n
}

// Result computes the metrics over everything added so far.
func (e *Evaluator) Result() EvalResult {
	n := len(e.labels)
	r := EvalResult{Images: n}
	if e.lossN > 0 {
		r.Loss = e.lossSum / float64(e.lossN)
	}
	if n == 0 {
		return r
	}
	for i, ls := range e.labels {
		row := e.scores[i*e.k : (i+1)*e.k]
		top := TopK(row, 5)
		hits1, hits5 := 0, 0
		for j, c := range top {
			if contains(ls, int32(c)) {
				hits5++
				if j == 0 {
					hits1++
				}
			}
		}
		r.PrecisionAt1 += float64(hits1)
		r.PrecisionAt5 += float64(hits5) / 5
		if hits1 > 0 {
			r.Top1++
		}
		if hits5 > 0 {
			r.Top5++
		}
	}
	r.PrecisionAt1 /= float64(n)
	r.PrecisionAt5 /= float64(n)
	r.Top1 /= float64(n)
	r.Top5 /= float64(n)
	r.MAP, r.Classes, r.ClassAP, r.ClassPositives = e.meanAP()
	return r
}

func (e *Evaluator) meanAP() (mAP float64, classes int, ap []float64, positives []int) {
	n := len(e.labels)
	pos := make([][]bool, e.k)
	count := make([]int, e.k)
	for i, ls := range e.labels {
		for _, l := range ls {
			if pos[l] == nil {
				pos[l] = make([]bool, n)
			}
			if !pos[l][i] {
				pos[l][i] = true
				count[l]++
			}
		}
	}
	scores := make([]float32, n)
	ap = make([]float64, e.k)
	sum := 0.0
	for c := 0; c < e.k; c++ {
		if count[c] == 0 {
			continue
		}
		for i := range n {
			scores[i] = e.scores[i*e.k+c]
		}
		ap[c] = AveragePrecision(scores, pos[c])
		sum += ap[c]
		classes++
	}
	if classes == 0 {
		return 0, 0, ap, count
	}
	return sum / float64(classes), classes, ap, count
}

// AveragePrecision is the area under the precision-recall curve of ranking
// items by score, as scikit-learn's average_precision_score computes it:
// Σ_t (R_t − R_{t−1}) P_t over the distinct score thresholds t from the
// highest down, so tied scores count as one threshold. It is 0 when no item
// is positive.
func AveragePrecision(scores []float32, positive []bool) float64 {
	idx := make([]int, len(scores))
	total := 0
	for i := range idx {
		idx[i] = i
		if positive[i] {
			total++
		}
	}
	if total == 0 {
		return 0
	}
	sort.SliceStable(idx, func(a, b int) bool { return scoreLess(scores[idx[b]], scores[idx[a]]) })
	ap, tp, seen, prevRecall := 0.0, 0, 0, 0.0
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && sameScore(scores[idx[j]], scores[idx[i]]) {
			if positive[idx[j]] {
				tp++
			}
			j++
		}
		seen = j
		recall := float64(tp) / float64(total)
		ap += (recall - prevRecall) * float64(tp) / float64(seen)
		prevRecall = recall
		i = j
	}
	return ap
}

// scoreLess orders scores with NaN below everything, so a diverged model
// ranks its NaN scores last instead of breaking the sort.
func scoreLess(a, b float32) bool {
	an, bn := math.IsNaN(float64(a)), math.IsNaN(float64(b))
	switch {
	case an && bn:
		return false
	case an:
		return true
	case bn:
		return false
	}
	return a < b
}

func sameScore(a, b float32) bool {
	return a == b || (math.IsNaN(float64(a)) && math.IsNaN(float64(b)))
}

// TopK returns the indices of the k largest scores, largest first; ties go
// to the lower index. k is capped at len(scores).
func TopK(scores []float32, k int) []int {
	k = min(k, len(scores))
	top := make([]int, 0, k)
	for i, s := range scores {
		pos := len(top)
		for pos > 0 && scoreLess(scores[top[pos-1]], s) {
			pos--
		}
		if pos >= k {
			continue
		}
		if len(top) < k {
			top = append(top, 0)
		}
		copy(top[pos+1:], top[pos:len(top)-1])
		top[pos] = i
	}
	return top
}

func contains(ls []int32, c int32) bool {
	for _, l := range ls {
		if l == c {
			return true
		}
	}
	return false
}

// Summary is the held-out line of a log: mAP over the tags with positives
// first (precision@1 on hashtags is dominated by the most frequent tag),
// then precision@1/@5, top-1 and the loss.
func (r EvalResult) Summary() string {
	return fmt.Sprintf("mAP %.4f over %d classes, precision@1 %.4f precision@5 %.4f top-1 %.4f val loss %.4f (%d images)",
		r.MAP, r.Classes, r.PrecisionAt1, r.PrecisionAt5, r.Top1, r.Loss, r.Images)
}
