package traintest

import (
	"fmt"
	"strings"
	"testing"

	"weaksup/nets"
	"weaksup/torch"
)

// Python is the interpreter with Debian's python3-torch and
// python3-torchvision, which the parity tests run PyTorch in.
const Python = "/usr/bin/python3"

// PerturbBatchNorm gives every BN affine parameter and running statistic a
// random value, so that eval mode and every gradient are non-trivial.
func PerturbBatchNorm(t testing.TB, m *nets.ResNeXt) {
	t.Helper()
	s := torch.NewScope()
	defer s.Close()
	err := torch.NoGrad(func() error {
		for _, p := range m.Parameters() {
			shape := p.Tensor.Shape()
			var v *torch.Tensor
			switch {
			case strings.HasSuffix(p.Name, "running_var"):
				v = torch.Rand(torch.Float32, torch.CPU, shape...).AddScalar(0.5)
			case strings.HasSuffix(p.Name, "running_mean"):
				v = torch.Randn(torch.Float32, torch.CPU, shape...).MulScalar(0.1)
			case strings.HasSuffix(p.Name, "num_batches_tracked"):
				v = torch.Ones(torch.Int64, torch.CPU).MulScalar(3)
			case strings.Contains(p.Name, "bn") || strings.Contains(p.Name, "downsample.1"):
				v = torch.Randn(torch.Float32, torch.CPU, shape...).MulScalar(0.2)
				if strings.HasSuffix(p.Name, "weight") {
					v = v.AddScalar(1)
				}
			default:
				continue
			}
			if err := p.Tensor.CopyFrom(v); err != nil {
				return fmt.Errorf("perturb %s: %w", p.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
