package train

import (
	"flag"
	"fmt"
	"strings"

	"weaksup/torch"
)

// Precision is the arithmetic of a network's forward pass. Reduced
// precisions follow PyTorch's automatic mixed precision: the weights, their
// gradients and the optimizer state stay float32 (master weights); under
// libtorch's autocast, convolutions and matrix products run in the reduced
// type while losses, softmax and batch-norm statistics stay float32, and
// the backward pass follows the forward's types. Checkpoints hold float32
// whatever the precision.
type Precision string

// The precisions --precision takes.
const (
	PrecisionFP32 Precision = "fp32" // float32 throughout
	// PrecisionBF16 is bfloat16 autocast: float32's range with 8 bits of
	// mantissa, so no loss scaling. Fast on CPUs with AVX512_BF16 or
	// AMX-BF16 and on CUDA devices of compute capability 8.0 or later.
	PrecisionBF16 Precision = "bf16"
	// PrecisionFP16 is float16 autocast with dynamic loss scaling
	// (GradScaler), on CUDA devices only, as in PyTorch.
	PrecisionFP16 Precision = "fp16"
	// PrecisionAuto is bf16 where the device computes it fast, else fp32;
	// ChoosePrecision resolves it.
	PrecisionAuto Precision = "auto"
)

// Precisions lists the values --precision takes, in the order help texts
// show them.
var Precisions = []Precision{PrecisionAuto, PrecisionFP32, PrecisionBF16, PrecisionFP16}

// PrecisionUsage is the help text of the --precision flags.
const PrecisionUsage = "arithmetic (`precision`) of the forward pass: fp32; bf16 (autocast: convolutions and matrix products in bfloat16, fp32 master weights); " +
	"fp16 (CUDA only, with dynamic loss scaling); auto picks bf16 where the device runs it fast (a CPU with AVX512_BF16 or AMX, " +
	"a CUDA device of compute capability ≥ 8.0), else fp32"

// RegisterFlag adds --precision to fs, setting p, with p's value as the
// default (auto when p is empty). The flag parses its value: a Precision
// set by a flag is always one of Precisions.
func (p *Precision) RegisterFlag(fs *flag.FlagSet) {
	if *p == "" {
		*p = PrecisionAuto
	}
	fs.Var(p, "precision", PrecisionUsage)
}

// Set parses a --precision value (flag.Value).
func (p *Precision) Set(s string) error {
	for _, q := range Precisions {
		if string(q) == strings.ToLower(s) {
			*p = q
			return nil
		}
	}
	return fmt.Errorf("want one of %v", Precisions)
}

func (p Precision) String() string { return string(p) }

func (p Precision) orFP32() Precision {
	if p == "" {
		return PrecisionFP32
	}
	return p
}

// DType returns the low-precision element type of the forward pass
// (Float32 for fp32).
func (p Precision) DType() torch.DType {
	switch p {
	case PrecisionBF16:
		return torch.BFloat16
	case PrecisionFP16:
		return torch.Float16
	}
	return torch.Float32
}

// Check reports a precision that cannot run on dev: auto (unresolved), an
// unknown name, or fp16 on the CPU (PyTorch's CPU autocast is bf16 only).
func (p Precision) Check(dev torch.Device) error {
	switch p.orFP32() {
	case PrecisionFP32, PrecisionBF16:
		return nil
	case PrecisionFP16:
		if dev.Type != torch.DeviceCUDA {
			return fmt.Errorf("check precision fp16 on %v: fp16 autocast needs a CUDA device; use bf16 on the CPU", dev)
		}
		return nil
	case PrecisionAuto:
		return fmt.Errorf("check precision: auto must be resolved with ChoosePrecision first")
	}
	return fmt.Errorf("check precision %q: want one of %v", string(p), Precisions)
}

// Autocast runs fn with the forward pass's arithmetic on dev: under
// libtorch's autocast for bf16 and fp16, as is for fp32. Run one forward
// pass (and its loss) per call; backward and the optimizer step go outside.
func (p Precision) Autocast(dev torch.Device, fn func() error) error {
	if p.DType() == torch.Float32 {
		return fn()
	}
	return torch.Autocast(dev, p.DType(), fn)
}

// LossScaled reports whether the precision needs dynamic loss scaling.
func (p Precision) LossScaled() bool { return p == PrecisionFP16 }
