package finetune

import "weaksup/train"

// precision resolves cfg.Precision on cfg.Device and logs the choice under
// label. resumeOut is the run directory a resumed run continues: auto then
// keeps the precision its checkpoint was trained in.
func (c *Config) precision(label, resumeOut string) (train.Precision, error) {
	if !c.Resume {
		resumeOut = ""
	}
	p, why, err := train.ResolvePrecision(c.Precision, c.Device, resumeOut)
	if err != nil {
		return "", err
	}
	logf(c.Log, "%s: precision %s (%s)\n", label, p, why)
	return p, nil
}
