package pipeline

import "flag"

// Config holds the configuration of every stage; each stage package owns
// its part and its flags.
type Config struct {
}

// RegisterFlags registers every stage's flags on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
}

// Stages returns the pipeline's stages in order, configured by c.
func (c *Config) Stages() []Stage {
	return nil
}
