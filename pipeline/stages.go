package pipeline

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"weaksup/canonicalize"
	"weaksup/dedup"
	"weaksup/ingest"
	"weaksup/shards"
	"weaksup/store"
	"weaksup/workdir"
)

// Config holds the configuration of every stage; each stage package owns
// its part, its flags and its name.
type Config struct {
	Ingest       ingest.Config
	Canonicalize canonicalize.Config
	Dedup        dedup.Config
	Shards       shards.Config
}

// DefaultConfig returns every stage's defaults: the configuration the
// flags of `weaksup pipeline run` show.
func DefaultConfig() Config {
	return Config{
		Ingest:       ingest.DefaultConfig(),
		Canonicalize: canonicalize.DefaultConfig(),
		Dedup:        dedup.DefaultConfig(),
		Shards:       shards.DefaultConfig(),
	}
}

// RegisterFlags registers every stage's flags on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	for _, p := range c.parts() {
		p.register(fs)
	}
}

// part is one stage's share of a Config.
type part struct {
	name     string
	cfg      any // a pointer to the stage's config in the Config
	register func(*flag.FlagSet)
	stage    func() Stage
}

// parts lists the stages in pipeline order: the one place that order is
// written down.
func (c *Config) parts() []part {
	return []part{
		{ingest.Stage, &c.Ingest, c.Ingest.RegisterFlags, func() Stage {
			return Stage{Name: ingest.Stage, Config: c.Ingest, Fingerprint: c.Ingest.Fingerprint, Run: stageFunc(ingest.Run, c.Ingest)}
		}},
		{canonicalize.Stage, &c.Canonicalize, c.Canonicalize.RegisterFlags, func() Stage {
			return Stage{Name: canonicalize.Stage, Config: c.Canonicalize, Fingerprint: c.Canonicalize.Fingerprint, Run: stageFunc(canonicalize.Run, c.Canonicalize)}
		}},
		{dedup.Stage, &c.Dedup, c.Dedup.RegisterFlags, func() Stage { return dedupStage(c.Dedup) }},
		{shards.Stage, &c.Shards, c.Shards.RegisterFlags, func() Stage {
			return Stage{Name: shards.Stage, Config: c.Shards, Fingerprint: c.Shards.Fingerprint, Run: stageFunc(shards.Run, c.Shards)}
		}},
	}
}

// dedupStage is the dedup stage. Its Fingerprint lists the test sets and
// its Run loads the catalog from that listing: the runner fingerprints a
// stage right before it runs it, so each test image is listed and stat'ed
// once per run, and the files fingerprinted are the files hashed.
func dedupStage(cfg dedup.Config) Stage {
	var listed *dedup.Listing
	list := func() (*dedup.Listing, error) {
		l, err := cfg.List()
		listed = l
		return l, err
	}
	return Stage{Name: dedup.Stage, Config: cfg,
		Fingerprint: func() (string, error) {
			l, err := list()
			if err != nil {
				return "", err
			}
			return l.Fingerprint(), nil
		},
		Run: func(ctx context.Context, st *store.Store, wd workdir.Dir, log io.Writer) (Result, error) {
			l := listed
			if l == nil { // not fingerprinted first
				var err error
				if l, err = list(); err != nil {
					return nil, err
				}
			}
			return stageFunc(dedup.Run, l)(ctx, st, wd, log)
		}}
}

// stageFunc adapts a stage package's Run, which returns a pointer to its
// statistics (nil when it failed before it had any), to the Stage
// signature.
func stageFunc[C, S any, R interface {
	*S
	Result
}](run func(context.Context, *store.Store, workdir.Dir, C, io.Writer) (R, error), cfg C) func(context.Context, *store.Store, workdir.Dir, io.Writer) (Result, error) {
	return func(ctx context.Context, st *store.Store, wd workdir.Dir, log io.Writer) (Result, error) {
		res, err := run(ctx, st, wd, cfg, log)
		if res == nil {
			return nil, err // not a non-nil Result holding a nil pointer
		}
		return res, err
	}
}

// Stages returns the pipeline's stages in order, configured by c.
func (c *Config) Stages() []Stage {
	var out []Stage
	for _, p := range c.parts() {
		out = append(out, p.stage())
	}
	return out
}

// StageNames returns the names of the pipeline's stages, in order.
func StageNames() []string {
	var names []string
	for _, p := range new(Config).parts() {
		names = append(names, p.name)
	}
	return names
}

// KeepRecorded replaces the configuration of every stage none of whose
// flags were set on this command line (set holds the names of the flags
// given) with the configuration in that stage's record, when it has one.
// So `pipeline run --stage dedup --testset ...` after a full run keeps the
// ingest input and vocabulary settings it ran with, and `pipeline status`
// judges staleness against what actually ran, not against flag defaults.
// The flags of a stage replace its recorded config as a whole.
func (c *Config) KeepRecorded(wd workdir.Dir, set map[string]bool) error {
	var probe Config
	probes := probe.parts()
	for i, p := range c.parts() {
		fs := flag.NewFlagSet(p.name, flag.ContinueOnError)
		probes[i].register(fs)
		given := false
		fs.VisitAll(func(f *flag.Flag) { given = given || set[f.Name] })
		if given {
			continue
		}
		rec, ok, err := ReadRecord(wd, p.name)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := json.Unmarshal(rec.Config, p.cfg); err != nil {
			return fmt.Errorf("read recorded config of stage %s in %s: %w", p.name, wd.StageRecord(p.name), err)
		}
	}
	return nil
}
