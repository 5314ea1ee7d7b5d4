package canonicalize

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"weaksup/atomicfile"
	"weaksup/progress"
	"weaksup/store"
	"weaksup/wordnet"
	"weaksup/workdir"
)

// Stage is the pipeline stage name, also the stage drop flags are recorded
// under.
const Stage = "canonicalize"

// DropNoVocabTag is the drop reason of a record none of whose hashtags is in
// the vocabulary.
const DropNoVocabTag = "no_vocab_tag"

// Vocabulary sources.
const (
	VocabTop        = "top"        // the most frequent concepts of the records
	VocabImageNet1k = "imagenet1k" // the 1,000 ImageNet-1k synsets
)

// Config configures the canonicalize stage.
type Config struct {
	WordNetDir  string `json:"wordnet_dir,omitempty"` // "" = the embedded WordNet 3.0
	SensePolicy string `json:"sense_policy"`
	Vocab       string `json:"vocab"`                // VocabTop or VocabImageNet1k
	VocabSize   int    `json:"vocab_size"`           // for VocabTop
	MinCount    int64  `json:"min_count"`            // for VocabTop
	VocabFile   string `json:"vocab_file,omitempty"` // a fixed vocabulary; overrides Vocab
	WNIDsFile   string `json:"wnids_file,omitempty"` // for VocabImageNet1k; "" = embedded list
}

// DefaultConfig is the paper's setting: first sense, top 17,517 concepts.
func DefaultConfig() Config {
	return Config{SensePolicy: First.String(), Vocab: VocabTop, VocabSize: DefaultVocabSize, MinCount: 1}
}

// RegisterFlags registers the stage's flags, with DefaultConfig's defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.StringVar(&c.WordNetDir, "wordnet-dir", d.WordNetDir, "WordNet database directory (e.g. /usr/share/wordnet); empty: the embedded WordNet 3.0")
	fs.StringVar(&c.SensePolicy, "sense-policy", d.SensePolicy, "which noun senses an ambiguous hashtag stands for: first, all or drop-ambiguous")
	fs.StringVar(&c.Vocab, "vocab", d.Vocab, "vocabulary: top (the --vocab-size most frequent concepts) or imagenet1k (the 1,000 ImageNet-1k synsets)")
	fs.IntVar(&c.VocabSize, "vocab-size", d.VocabSize, "concepts kept by --vocab top")
	fs.Int64Var(&c.MinCount, "min-count", d.MinCount, "images a concept needs to enter the --vocab top vocabulary")
	fs.StringVar(&c.VocabFile, "vocab-file", d.VocabFile, "fixed vocabulary (a vocab.tsv from an earlier run) for stable label ids; overrides --vocab")
	fs.StringVar(&c.WNIDsFile, "imagenet1k-wnids", d.WNIDsFile, "wnid list for --vocab imagenet1k, one a line; empty: the embedded ImageNet-1k list")
}

// Validate checks the configuration, naming the flag at fault.
func (c Config) Validate() error {
	if _, err := ParsePolicy(c.SensePolicy); err != nil {
		return fmt.Errorf("flag --sense-policy: %w", err)
	}
	switch c.Vocab {
	case VocabTop, VocabImageNet1k:
	default:
		return fmt.Errorf("flag --vocab: %q: want top or imagenet1k", c.Vocab)
	}
	if c.VocabSize < 1 {
		return fmt.Errorf("flag --vocab-size: %d: want at least 1", c.VocabSize)
	}
	if c.MinCount < 1 {
		return fmt.Errorf("flag --min-count: %d: want at least 1", c.MinCount)
	}
	if c.VocabFile != "" && c.Vocab == VocabImageNet1k {
		return errors.New("flags --vocab-file and --vocab imagenet1k: choose one")
	}
	return nil
}

// Fingerprint hashes the stage's external inputs: the WordNet directory's
// noun files, the vocabulary file and the wnid list, where set. It is empty
// when the stage reads none (embedded WordNet, no files).
func (c Config) Fingerprint() (string, error) {
	var files []string
	if c.WordNetDir != "" {
		for _, f := range []string{"index.noun", "data.noun", "noun.exc"} {
			files = append(files, filepath.Join(c.WordNetDir, f))
		}
	}
	if c.VocabFile != "" {
		files = append(files, c.VocabFile)
	}
	if c.WNIDsFile != "" && c.Vocab == VocabImageNet1k {
		files = append(files, c.WNIDsFile)
	}
	if len(files) == 0 {
		return "", nil
	}
	h := sha256.New()
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("fingerprint canonicalize inputs: %w", err)
		}
		fmt.Fprintf(h, "%s\n", filepath.Base(path))
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("fingerprint %s: %w", path, err)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Vocabulary builds the configured vocabulary: the fixed file, the
// ImageNet-1k synsets, or the top concepts of the counted records.
func (c Config) Vocabulary(m *Mapper, counts *Counter) (*Vocabulary, error) {
	switch {
	case c.VocabFile != "":
		v, err := LoadVocabulary(c.VocabFile)
		if err != nil {
			return nil, fmt.Errorf("flag --vocab-file: %w", err)
		}
		if err := v.Check(m); err != nil {
			return nil, fmt.Errorf("flag --vocab-file %s: %w", c.VocabFile, err)
		}
		return v, nil
	case c.Vocab == VocabImageNet1k:
		wnids := ImageNet1kWNIDs()
		if c.WNIDsFile != "" {
			f, err := os.Open(c.WNIDsFile)
			if err != nil {
				return nil, fmt.Errorf("flag --imagenet1k-wnids: %w", err)
			}
			defer f.Close()
			if wnids, err = ReadWNIDs(f, c.WNIDsFile); err != nil {
				return nil, fmt.Errorf("flag --imagenet1k-wnids: %w", err)
			}
		}
		return SynsetVocabulary(m, wnids)
	}
	return counts.TopK(c.VocabSize, c.MinCount)
}

// Mapper loads the configured WordNet and returns a mapper with the
// configured sense policy.
func (c Config) Mapper() (*Mapper, error) {
	policy, err := ParsePolicy(c.SensePolicy)
	if err != nil {
		return nil, fmt.Errorf("flag --sense-policy: %w", err)
	}
	db, err := wordnet.Load(c.WordNetDir)
	if err != nil {
		return nil, fmt.Errorf("load wordnet (flag --wordnet-dir): %w", err)
	}
	return NewMapper(db, policy), nil
}

// CountRecords counts, with m, the hashtags of every ok record of the store:
// the counts the top-K vocabulary is built from. Progress goes to log.
func CountRecords(ctx context.Context, st *store.Store, m *Mapper, log io.Writer) (*Counter, error) {
	total, err := st.Count()
	if err != nil {
		return nil, fmt.Errorf("count records: %w", err)
	}
	return countRecords(ctx, st, m, total, log)
}

func countRecords(ctx context.Context, st *store.Store, m *Mapper, total int, log io.Writer) (*Counter, error) {
	counter := NewCounter(m)
	bar := progress.New(log, int64(total), "canonicalize: count hashtags")
	err := st.Records(func(r *store.Record) error {
		bar.Add(1)
		if r.OK() {
			counter.Add(r.RawTags)
		}
		return ctx.Err()
	})
	bar.Finish()
	if err != nil {
		return nil, fmt.Errorf("count hashtags: %w", err)
	}
	return counter, nil
}

// Run is the canonicalize stage: it maps the hashtags of every ok record of
// the store, builds or loads the vocabulary, writes <workdir>/vocab.tsv and
// <workdir>/hashtags.tsv, stores each record's labels, and drops records
// left without an in-vocabulary tag (stage "canonicalize", reason
// "no_vocab_tag"). Labels and drop flags of an earlier run are cleared first.
func Run(ctx context.Context, st *store.Store, wd workdir.Dir, cfg Config, log io.Writer) (*Stats, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := cfg.Mapper()
	if err != nil {
		return nil, err
	}
	total, err := st.Count()
	if err != nil {
		return nil, fmt.Errorf("count records: %w", err)
	}
	counter, err := countRecords(ctx, st, m, total, log)
	if err != nil {
		return nil, err
	}
	vocab, err := cfg.Vocabulary(m, counter)
	if err != nil {
		return nil, err
	}

	if err := st.ClearLabels(); err != nil {
		return nil, err
	}
	if err := st.ClearDrops(Stage); err != nil {
		return nil, err
	}
	labeler := NewLabeler(m, vocab)
	perLabel := make([]int64, vocab.Len())
	var labelled, dropped int64
	batch := st.NewBatch()
	bar := progress.New(log, int64(total), "canonicalize: label")
	err = st.Records(func(r *store.Record) error {
		bar.Add(1)
		if !r.OK() {
			return ctx.Err()
		}
		ids := labeler.Label(r.RawTags)
		if len(ids) == 0 {
			dropped++
			bar.Inc("dropped")
			if err := batch.SetDrop(r.ID, Stage, DropNoVocabTag); err != nil {
				return err
			}
			return ctx.Err()
		}
		labelled++
		for _, id := range ids {
			perLabel[id]++
		}
		if err := batch.PutLabels(r.ID, store.Labels{Tags: labeler.Tags(ids), IDs: ids}); err != nil {
			return err
		}
		return ctx.Err()
	})
	bar.Finish()
	if err != nil {
		batch.Cancel()
		return nil, fmt.Errorf("label records: %w", err)
	}
	if err := batch.Flush(); err != nil {
		return nil, fmt.Errorf("label records: %w", err)
	}
	vocab.SetCounts(perLabel)
	if err := os.MkdirAll(string(wd), 0o755); err != nil {
		return nil, fmt.Errorf("write vocabulary: %w", err)
	}
	if err := vocab.WriteFile(wd.Vocab()); err != nil {
		return nil, err
	}
	if err := WriteHashtags(wd.Hashtags(), counter, m); err != nil {
		return nil, err
	}

	stats := newStats(counter, vocab)
	stats.Labelled, stats.Dropped = labelled, dropped
	fmt.Fprintf(log, "canonicalize: %d records, %d labelled, %d dropped (%s); %d distinct hashtags, %d mapped; vocabulary %d tags (%s)\n",
		stats.Records, labelled, dropped, DropNoVocabTag, stats.Hashtags, stats.Mapped, vocab.Len(), vocab.Hash())
	return stats, nil
}

// WriteHashtags writes every distinct hashtag normal form with its image
// count and what it maps to (tags) or why it does not (reason), most
// frequent first: the list to read when looking for lost hashtags.
func WriteHashtags(path string, c *Counter, m *Mapper) error {
	hs := c.Hashtags()
	keys := make([]string, 0, len(hs))
	for k := range hs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := hs[keys[i]], hs[keys[j]]
		if a.Images != b.Images {
			return a.Images > b.Images
		}
		return keys[i] < keys[j]
	})
	return atomicfile.Write(path, func(f io.Writer) error {
		w := bufio.NewWriter(f)
		w.WriteString("hashtag\timages\ttags\treason\n")
		for _, k := range keys {
			hc := hs[k]
			var tags []string
			if hc.Reason == "" {
				for _, c := range m.Map(k).Concepts {
					tags = append(tags, c.Tag)
				}
			}
			w.WriteString(k + "\t" + strconv.FormatInt(hc.Images, 10) + "\t" + strings.Join(tags, ",") + "\t" + string(hc.Reason) + "\n")
		}
		return w.Flush()
	})
}
