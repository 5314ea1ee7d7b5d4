package finetune

import (
	"weaksup/torch"
	"weaksup/train"
)

// precision resolves cfg.Precision on cfg.Device and logs the choice under
// label. resumeOut is the run directory a resumed run continues: auto then
// keeps the precision its checkpoint was trained in. In a data-parallel
// group every rank takes rank 0's choice.
func (c *Config) precision(label, resumeOut string, group *torch.Group) (train.Precision, error) {
	if !c.Resume {
		resumeOut = ""
	}
	p, why, err := train.ResolvePrecision(c.Precision, c.Device, resumeOut)
	if err != nil {
		return "", err
	}
	if p, why, err = train.AgreePrecision(group, p, why); err != nil {
		return "", err
	}
	logf(c.Log, "%s: precision %s (%s)\n", label, p, why)
	return p, nil
}
