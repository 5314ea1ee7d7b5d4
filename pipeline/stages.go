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
)

// Stage names, in pipeline order.
const (
	StageIngest       = "ingest"
	StageCanonicalize = "canonicalize"
	StageDedup        = "dedup"
	StageShards       = "shards"
)

// Config holds the configuration of every stage; each stage package owns
// its part and its flags.
type Config struct {
	Ingest       ingest.Config
	Canonicalize canonicalize.Config
	Dedup        dedup.Config
	Shards       shards.Config
}

// RegisterFlags registers every stage's flags on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.Ingest.RegisterFlags(fs)
	c.Canonicalize.RegisterFlags(fs)
	c.Dedup.RegisterFlags(fs)
	c.Shards.RegisterFlags(fs)
}

// stageFunc adapts a stage package's Run to the Stage signature.
func stageFunc[C any](run func(context.Context, *store.Store, string, C, io.Writer) (map[string]int64, error), cfg C) func(context.Context, *store.Store, string, io.Writer) (map[string]int64, error) {
	return func(ctx context.Context, st *store.Store, workdir string, log io.Writer) (map[string]int64, error) {
		return run(ctx, st, workdir, cfg, log)
	}
}

// Stages returns the pipeline's stages in order, configured by c.
func (c *Config) Stages() []Stage {
	return []Stage{
		{Name: StageIngest, Config: c.Ingest, Fingerprint: c.Ingest.Fingerprint, Run: stageFunc(ingest.Run, c.Ingest)},
		{Name: StageCanonicalize, Config: c.Canonicalize, Fingerprint: c.Canonicalize.Fingerprint, Run: stageFunc(canonicalize.Run, c.Canonicalize)},
		{Name: StageDedup, Config: c.Dedup, Fingerprint: c.Dedup.Fingerprint, Run: stageFunc(dedup.Run, c.Dedup)},
		{Name: StageShards, Config: c.Shards, Fingerprint: c.Shards.Fingerprint, Run: stageFunc(shards.Run, c.Shards)},
	}
}

// KeepRecorded replaces the configuration of every stage none of whose
// flags were set on this command line (set holds the names of the flags
// given) with the configuration in that stage's record, when it has one.
// So `pipeline run --stage dedup --testset ...` after a full run keeps the
// ingest input and vocabulary settings it ran with, and `pipeline status`
// judges staleness against what actually ran, not against flag defaults.
// The flags of a stage replace its recorded config as a whole.
func (c *Config) KeepRecorded(workdir string, set map[string]bool) error {
	keep := func(stage string, register func(*flag.FlagSet), cfg any) error {
		fs := flag.NewFlagSet(stage, flag.ContinueOnError)
		register(fs)
		given := false
		fs.VisitAll(func(f *flag.Flag) { given = given || set[f.Name] })
		if given {
			return nil
		}
		rec, ok, err := ReadRecord(workdir, stage)
		if err != nil || !ok {
			return err
		}
		if err := json.Unmarshal(rec.Config, cfg); err != nil {
			return fmt.Errorf("read recorded config of stage %s in %s: %w", stage, recordPath(workdir, stage), err)
		}
		return nil
	}
	var probe Config
	if err := keep(StageIngest, probe.Ingest.RegisterFlags, &c.Ingest); err != nil {
		return err
	}
	if err := keep(StageCanonicalize, probe.Canonicalize.RegisterFlags, &c.Canonicalize); err != nil {
		return err
	}
	if err := keep(StageDedup, probe.Dedup.RegisterFlags, &c.Dedup); err != nil {
		return err
	}
	return keep(StageShards, probe.Shards.RegisterFlags, &c.Shards)
}
