package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"weaksup/canonicalize"
	"weaksup/pipeline"
	"weaksup/store"
)

// VocabCommand is the `weaksup vocab` command: show or build the hashtag
// vocabulary.
type VocabCommand struct{}

const vocabHelp = `Show or build the label vocabulary (vocab.tsv: id, tag, wnid, count,
member hashtags).

Subcommands:
  show   (the default) size, hash, the most frequent tags with their counts
         and member hashtags, and how many records kept a label, for the
         vocabulary of a working directory (--workdir) or a file (--file)
  build  write a vocabulary without labelling anything: the 1,000 ImageNet-1k
         synsets with every hashtag form of each (--imagenet1k), or the top
         concepts of a working directory's records (--workdir)

The canonicalize stage of 'weaksup pipeline run' builds <workdir>/vocab.tsv
itself; give it --vocab-file to reuse a vocabulary with its label ids.

Examples:
  weaksup vocab show --workdir work --top 20
  weaksup vocab show --file vocab.tsv
  weaksup vocab build --imagenet1k --out in1k-vocab.tsv
  weaksup vocab build --workdir work --vocab-size 1000 --min-count 5 --out vocab-1k.tsv`

// Run dispatches to show or build.
func (c *VocabCommand) Run(ctx context.Context, env Env, args []string) error {
	sub := "show"
	if len(args) > 0 && (args[0] == "show" || args[0] == "build") {
		sub, args = args[0], args[1:]
	}
	if sub == "build" {
		return c.build(ctx, env, args)
	}
	return c.show(env, args)
}

func (c *VocabCommand) show(env Env, args []string) error {
	fs := env.flagSet("vocab", "vocab [show|build] [flags]", vocabHelp)
	wd := workdirFlag(fs, "work", "working directory whose vocab.tsv (and canonicalize stage record) to show")
	file := fs.String("file", "", "vocabulary file to show instead of the working directory's")
	top := fs.Int("top", 20, "tags to list, most images first")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see --help)", fs.Args())
	}
	path := *file
	if path == "" {
		path = wd.Vocab()
	}
	v, err := canonicalize.LoadVocabulary(path)
	if errors.Is(err, os.ErrNotExist) && *file == "" {
		return fmt.Errorf("no vocabulary in %s (flag --workdir): run 'weaksup pipeline run --stage canonicalize --workdir %s' first", *wd, *wd)
	}
	if err != nil {
		return err
	}
	var stats *canonicalize.Stats
	if *file == "" {
		rec, ok, err := pipeline.ReadRecord(*wd, canonicalize.Stage)
		if err != nil {
			return err
		}
		if ok {
			stats = new(canonicalize.Stats)
			if ok, err := rec.DecodeStats(stats); err != nil || !ok {
				stats = nil
			}
		}
	}
	return printVocab(env.Stdout, path, v, stats, *top)
}

// unmappedOrder is the order in which vocab show lists why hashtags are
// unmapped: the common reasons first.
var unmappedOrder = []canonicalize.Reason{canonicalize.ReasonUnknown, canonicalize.ReasonNotNoun, canonicalize.ReasonAmbiguous,
	canonicalize.ReasonTooShort, canonicalize.ReasonTooLong, canonicalize.ReasonEmpty}

func printVocab(w io.Writer, path string, v *canonicalize.Vocabulary, stats *canonicalize.Stats, top int) error {
	var labels, members int64
	for _, e := range v.Entries {
		labels += e.Count
		members += int64(len(e.Members))
	}
	fmt.Fprintf(w, "vocabulary  %s\n  tags      %d\n  hashtags  %d member forms\n  hash      %s\n  labels    %d (image-tag pairs)\n", path, v.Len(), members, v.Hash(), labels)
	if stats != nil && stats.Records > 0 {
		r := stats.Records
		fmt.Fprintf(w, "  records   %d: %d labelled (%.1f%%), %d dropped (%s)\n", r, stats.Labelled, pct(stats.Labelled, r), stats.Dropped, canonicalize.DropNoVocabTag)
		if h := stats.Hashtags; h > 0 {
			fmt.Fprintf(w, "  hashtags  %d distinct: %d mapped to WordNet nouns (%.1f%%)", h, stats.Mapped, pct(stats.Mapped, h))
			var reasons []string
			for _, r := range unmappedOrder {
				if n := stats.Unmapped[r]; n > 0 {
					reasons = append(reasons, fmt.Sprintf("%d %s", n, r))
				}
			}
			if len(reasons) > 0 {
				fmt.Fprintf(w, "; unmapped: %s", strings.Join(reasons, ", "))
			}
			fmt.Fprintln(w)
		}
	}
	if top <= 0 || v.Len() == 0 {
		return nil
	}
	entries := v.Top(top)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTAG\tWNID\tIMAGES\tMEMBERS")
	for _, e := range entries {
		m := strings.Join(e.Members, ",")
		if len(m) > 60 {
			m = m[:57] + "..."
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", e.ID, e.Tag, e.WNID, e.Count, m)
	}
	return tw.Flush()
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func (c *VocabCommand) build(ctx context.Context, env Env, args []string) error {
	fs := env.flagSet("vocab build", "vocab build --out FILE (--imagenet1k | --workdir DIR) [flags]", vocabHelp)
	out := fs.String("out", "vocab.tsv", "vocabulary file to write")
	in1k := fs.Bool("imagenet1k", false, "the 1,000 ImageNet-1k synsets, ids in class order, every hashtag form of each as members")
	wnids := fs.String("wnids", "", "with --imagenet1k: a wnid list (one a line) instead of the embedded ImageNet-1k list")
	wd := workdirFlag(fs, "", "working directory whose records' hashtags to count for the top concepts")
	cfg := canonicalize.DefaultConfig()
	fs.StringVar(&cfg.WordNetDir, "wordnet-dir", cfg.WordNetDir, "WordNet database directory; empty: the embedded WordNet 3.0")
	fs.StringVar(&cfg.SensePolicy, "sense-policy", cfg.SensePolicy, "senses an ambiguous hashtag stands for: first, all or drop-ambiguous")
	fs.IntVar(&cfg.VocabSize, "vocab-size", cfg.VocabSize, "with --workdir: concepts to keep, most images first")
	fs.Int64Var(&cfg.MinCount, "min-count", cfg.MinCount, "with --workdir: images a concept needs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see --help)", fs.Args())
	}
	if *in1k == (*wd != "") {
		fs.Usage()
		return fmt.Errorf("give one of --imagenet1k and --workdir")
	}
	if *in1k {
		cfg.Vocab, cfg.WNIDsFile = canonicalize.VocabImageNet1k, *wnids
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	m, err := cfg.Mapper()
	if err != nil {
		return err
	}
	counter := canonicalize.NewCounter(m)
	if *wd != "" {
		st, err := store.Open(wd.Store())
		if err != nil {
			return fmt.Errorf("open the store of %s (flag --workdir): %w", *wd, err)
		}
		counter, err = canonicalize.CountRecords(ctx, st, m, env.Stderr)
		if cerr := st.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("count hashtags in %s: %w", *wd, err)
		}
	}
	v, err := cfg.Vocabulary(m, counter)
	if err != nil {
		return err
	}
	if err := v.WriteFile(*out); err != nil {
		return err
	}
	return printVocab(env.Stdout, *out, v, nil, 10)
}
