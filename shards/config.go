package shards

import (
	"flag"
	"fmt"

	"weaksup/storage"
)

// Config is the configuration of the shards stage. It is stored in the
// stage record and in manifest.json.
type Config struct {
	ShardMB     int     `json:"shard_mb"`     // target shard size in MiB
	ValFraction float64 `json:"val_fraction"` // fraction of records held out for evaluation
	Seed        uint64  `json:"seed"`         // record order and held-out choice
	Out         string  `json:"out"`          // shard directory; "" = <workdir>/shards
}

// DefaultConfig returns the defaults the flags show.
func DefaultConfig() Config {
	return Config{ShardMB: 256, ValFraction: 0.01, Seed: 1}
}

// RegisterFlags adds the stage's flags to fs, with the defaults of DefaultConfig.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.IntVar(&c.ShardMB, "shard-mb", d.ShardMB, "target size of one shard file in MiB")
	fs.Float64Var(&c.ValFraction, "val-fraction", d.ValFraction, "fraction of records held out as the val split")
	fs.Uint64Var(&c.Seed, "seed", d.Seed, "seed of the record order and the held-out choice")
	fs.StringVar(&c.Out, "out", d.Out, "shard directory: a local path, gs://BUCKET/PREFIX or s3://BUCKET/PREFIX (default <workdir>/shards)")
}

// Fingerprint is empty: the stage reads only the working store and the
// vocabulary that canonicalize wrote into the working directory.
func (c Config) Fingerprint() (string, error) { return "", nil }

func (c Config) validate() error {
	if c.ShardMB <= 0 {
		return fmt.Errorf("check flag --shard-mb: %d is not positive", c.ShardMB)
	}
	if c.ValFraction < 0 || c.ValFraction >= 1 {
		return fmt.Errorf("check flag --val-fraction: %g is outside [0,1)", c.ValFraction)
	}
	if c.Out != "" {
		if _, err := storage.ParseLocation(c.Out); err != nil {
			return fmt.Errorf("check flag --out: %w", err)
		}
	}
	return nil
}

// Validate reports the first flag with an unusable value.
func (c Config) Validate() error { return c.validate() }
