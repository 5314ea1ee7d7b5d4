package train

import (
	"fmt"

	"weaksup/torch"
)

// Loss names, as --loss takes them.
const (
	// LossSoftmax is the c-of-K target softmax cross-entropy of Mahajan et
	// al. (2018): an image with k labels gets target 1/k on each, and the
	// loss is -Σ_j target_j · log_softmax(logits)_j, averaged over images.
	// With one label per image it is the ordinary cross-entropy, so
	// fine-tuning on a single-label task uses it too.
	LossSoftmax = "softmax"
	// LossSigmoid is per-class sigmoid binary cross-entropy with targets 1
	// on each label and 0 elsewhere, summed over classes and averaged over
	// images.
	LossSigmoid = "sigmoid"
)

// Losses lists the loss names in the order help texts show them.
var Losses = []string{LossSoftmax, LossSigmoid}

// CheckLoss reports a loss name Targets and LossOf do not know.
func CheckLoss(name string) error {
	for _, l := range Losses {
		if l == name {
			return nil
		}
	}
	return fmt.Errorf("check loss %q: want one of %v", name, Losses)
}

// Targets fills dst (N×K, row-major) with the target rows of loss for the
// label sets of n images: 1/k on each of an image's k distinct labels for
// LossSoftmax, 1 on each label for LossSigmoid, 0 elsewhere. An image
// without labels gets a zero row (it adds nothing to the softmax loss). A
// label outside [0, K) is an error naming the image.
func Targets(dst []float32, labels [][]int32, k int, loss string) error {
	n := len(labels)
	if len(dst) < n*k {
		return fmt.Errorf("build targets: buffer of %d floats for %d×%d", len(dst), n, k)
	}
	clear(dst[:n*k])
	for i, ls := range labels {
		row := dst[i*k : (i+1)*k]
		distinct := 0
		for _, l := range ls {
			if l < 0 || int(l) >= k {
				return fmt.Errorf("build targets: image %d has label %d outside [0,%d)", i, l, k)
			}
			if row[l] == 0 {
				distinct++
			}
			row[l] = 1
		}
		if loss == LossSoftmax && distinct > 1 {
			w := 1 / float32(distinct)
			for _, l := range ls {
				row[l] = w
			}
		}
	}
	return nil
}

// LossOf returns the scalar loss of logits [N, K] against targets [N, K]
// built by Targets for the same loss. It computes in float32 whatever the
// logits' type (bfloat16 or float16 logits of an autocast forward are cast
// first), as PyTorch's autocast does for its losses.
func LossOf(loss string, logits, targets *torch.Tensor) *torch.Tensor {
	logits = logits.ToDType(torch.Float32)
	switch loss {
	case LossSigmoid:
		n := logits.Shape()
		rows := 1.0
		if len(n) > 0 && n[0] > 0 {
			rows = float64(n[0])
		}
		return torch.BCEWithLogits(logits, targets, nil, nil, torch.ReduceSum).MulScalar(1 / rows)
	default:
		return torch.SoftCrossEntropy(logits, targets)
	}
}
