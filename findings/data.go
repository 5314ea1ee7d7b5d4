package findings

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"weaksup/canonicalize"
	"weaksup/datasets"
	"weaksup/demo"
	"weaksup/experiment"
	"weaksup/pipeline"
	"weaksup/shards"
	"weaksup/wordnet"
	"weaksup/workdir"
)

// Data variants: the pipeline configurations pretraining arms draw from.
const (
	DataBase    = "base"    // every stage's defaults, test-set copies removed
	DataNoDedup = "nodedup" // no test set given to dedup: copies of target test images stay in
	DataMatched = "matched" // vocabulary cut to the target task's classes and their WordNet neighbours
)

// Sources is where the arms' data lies: the shard directory of each data
// variant and the target task.
type Sources struct {
	Shards map[string]string // variant → shard directory
	Vocab  map[string]string // variant → vocab.tsv (tag → WordNet synset)
	Task   string            // target task layout
	Target string            // target task directory

	// fingerprints of the data behind each path, by path
	prints map[string]string
}

// fingerprint returns a digest of what lies at path, a shard directory (its
// manifest, which lists every shard's SHA-256) or the target task (the
// listing of its splits: files, classes, sizes, times), computed once.
func (s *Sources) fingerprint(path string) (string, error) {
	if p, ok := s.prints[path]; ok {
		return p, nil
	}
	h := sha256.New()
	if m, err := shards.ReadManifest(path); err == nil {
		if err := json.NewEncoder(h).Encode(m.Splits); err != nil {
			return "", fmt.Errorf("fingerprint %s: %w", path, err)
		}
	} else if path == s.Target {
		ds, err := datasets.Open(s.Task, path, datasets.Options{})
		if err != nil {
			return "", fmt.Errorf("fingerprint target %s: %w", path, err)
		}
		for _, name := range []string{datasets.SplitTrain, datasets.SplitVal} {
			sp, err := ds.Split(name)
			if err != nil {
				return "", fmt.Errorf("fingerprint target %s: %w", path, err)
			}
			if err := sp.Fingerprint(h); err != nil {
				return "", fmt.Errorf("fingerprint target %s: %w", path, err)
			}
		}
	} else {
		return "", fmt.Errorf("fingerprint %s: %w", path, err)
	}
	if s.prints == nil {
		s.prints = map[string]string{}
	}
	s.prints[path] = hex.EncodeToString(h.Sum(nil))
	return s.prints[path], nil
}

// ErrNoVariant is wrapped when an arm needs a data variant that the
// sources lack (real shards come in one variant only).
var ErrNoVariant = errors.New("data variant not available")

func (s *Sources) shards(variant string) (string, error) {
	d, ok := s.Shards[variant]
	if !ok {
		return "", fmt.Errorf("data variant %q: %w (it needs the demo world: the pipeline is rerun with another configuration)", variant, ErrNoVariant)
	}
	return d, nil
}

// prepareDemo generates and serves the demo world under out, crawls it once
// and runs the rest of the pipeline for each variant in its own working
// directory: out/data/<variant>, each starting from a copy of the crawled
// store so the images are fetched only once.
func prepareDemo(ctx context.Context, out string, world demo.WorldConfig, valFraction float64, variants []string, log io.Writer) (*Sources, error) {
	w, err := experiment.StartWorld(ctx, filepath.Join(out, "world"), world, log)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	base := experiment.PipelineConfig(w)
	base.Shards.ValFraction = valFraction
	crawled := workdir.Dir(filepath.Join(out, "data", "ingest"))
	r := &pipeline.Runner{Workdir: crawled, Stages: base.Stages(), Log: log}
	fmt.Fprintf(log, "findings: data: crawling the demo world into %s\n", crawled)
	if err := r.Run(ctx, "ingest"); err != nil {
		return nil, fmt.Errorf("crawl demo world: %w", err)
	}
	src := &Sources{Shards: map[string]string{}, Vocab: map[string]string{}, Task: datasets.ImageNet,
		Target: filepath.Join(w.Dir, demo.TargetDir)}
	for _, v := range variants {
		cfg := base
		wd := workdir.Dir(filepath.Join(out, "data", v))
		switch v {
		case DataBase:
		case DataNoDedup:
			cfg.Dedup.TestSets = nil
		case DataMatched:
			// The matched vocabulary is cut from the base one, so base runs first.
			if _, ok := src.Vocab[DataBase]; !ok {
				return nil, fmt.Errorf("data variant %s: needs the %s variant first", v, DataBase)
			}
			vf := filepath.Join(out, "data", "matched-vocab.tsv")
			if err := writeMatchedVocab(src.Vocab[DataBase], w.Target.Classes, vf); err != nil {
				return nil, err
			}
			cfg.Canonicalize.VocabFile = vf
		default:
			return nil, fmt.Errorf("data variant %q: unknown", v)
		}
		if err := copyCrawl(crawled, wd); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "findings: data: pipeline for variant %s in %s\n", v, wd)
		r := &pipeline.Runner{Workdir: wd, Stages: cfg.Stages(), Log: log}
		if err := r.Run(ctx, "all"); err != nil {
			return nil, fmt.Errorf("data variant %s: %w", v, err)
		}
		src.Shards[v], src.Vocab[v] = wd.Shards(), wd.Vocab()
	}
	return src, nil
}

// copyCrawl starts a variant's working directory from the crawled one (its
// store, ingest statistics and ingest record), once.
func copyCrawl(from, to workdir.Dir) error {
	if _, err := os.Stat(to.StageRecord("ingest")); err == nil {
		return nil
	}
	tmp := workdir.Dir(string(to) + ".tmp")
	if err := os.RemoveAll(string(tmp)); err != nil {
		return fmt.Errorf("copy crawl to %s: %w", to, err)
	}
	for _, p := range [][2]string{{from.Store(), tmp.Store()}, {from.IngestStats(), tmp.IngestStats()}, {from.StageRecord("ingest"), tmp.StageRecord("ingest")}} {
		if err := copyTree(p[0], p[1]); err != nil {
			return fmt.Errorf("copy crawl to %s: %w", to, err)
		}
	}
	if err := os.RemoveAll(string(to)); err != nil {
		return fmt.Errorf("copy crawl to %s: %w", to, err)
	}
	if err := os.Rename(string(tmp), string(to)); err != nil {
		return fmt.Errorf("copy crawl to %s: %w", to, err)
	}
	return nil
}

// copyTree copies a file or a directory tree of regular files.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == from {
				return nil
			}
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}

// writeMatchedVocab writes the target-matched vocabulary: the entries of
// the full vocabulary whose synset is a target class, a hypernym of one or
// a hyponym of one, renumbered densely. It is an error when no target class
// is in the vocabulary.
func writeMatchedVocab(fullPath string, classes []string, out string) error {
	full, err := canonicalize.LoadVocabulary(fullPath)
	if err != nil {
		return err
	}
	db, err := wordnet.Embedded()
	if err != nil {
		return err
	}
	near := map[string]bool{}
	for _, wnid := range classes {
		s, err := db.Synset(wnid)
		if err != nil {
			continue // not a WordNet id: matched on the id alone
		}
		near[wnid] = true
		for _, h := range hypernymClosure(s) {
			near[h.WNID()] = true
		}
		for _, h := range s.Hyponyms() {
			near[h.WNID()] = true
		}
	}
	var entries []canonicalize.Entry
	for _, e := range full.Entries {
		if near[e.WNID] {
			e.ID = int32(len(entries))
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return fmt.Errorf("cut matched vocabulary from %s: none of the %d target classes or their WordNet neighbours is in it", fullPath, len(classes))
	}
	v, err := canonicalize.NewVocabulary(entries)
	if err != nil {
		return fmt.Errorf("cut matched vocabulary from %s: %w", fullPath, err)
	}
	return v.WriteFile(out)
}

// hypernymClosure returns every synset above s.
func hypernymClosure(s *wordnet.Synset) []*wordnet.Synset {
	seen := map[*wordnet.Synset]bool{}
	var out []*wordnet.Synset
	stack := []*wordnet.Synset{s}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, h := range c.Hypernyms() {
			if !seen[h] {
				seen[h] = true
				out = append(out, h)
				stack = append(stack, h)
			}
		}
	}
	return out
}
