package beampipe

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"weaksup/canonicalize"
	"weaksup/workdir"
)

func mapperFor(cfg canonicalize.Config) (*canonicalize.Mapper, error) {
	key, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return sharedValue("mapper\x00"+string(key), cfg.Mapper)
}

// countFn counts the hashtags of a bundle's records with a
// canonicalize.Counter and emits its Tally when the bundle ends.
type countFn struct {
	Cfg canonicalize.Config
	c   *canonicalize.Counter
}

func (f *countFn) StartBundle(_ context.Context, _ func(string, int64)) error {
	m, err := mapperFor(f.Cfg)
	if err != nil {
		return err
	}
	f.c = canonicalize.NewCounter(m)
	return nil
}

func (f *countFn) ProcessElement(r Rec, _ func(string, int64)) { f.c.Add(r.RawTags) }

func (f *countFn) FinishBundle(emit func(string, int64)) {
	for k, n := range f.c.Tally() {
		emit(k, n)
	}
	f.c = nil
}

// vocabFn turns the summed tallies into one Counter, builds the configured
// vocabulary from it (canonicalize.Config.Vocabulary: TopK, a fixed file
// or ImageNet-1k), writes hashtags.tsv and emits the vocabulary as
// vocab.tsv bytes (without the labelled counts).
type vocabFn struct {
	Cfg     canonicalize.Config
	Workdir string
}

func (f *vocabFn) ProcessElement(ctx context.Context, _ []byte, tally func(*string, *int64) bool, emit func([]byte)) error {
	m, err := mapperFor(f.Cfg)
	if err != nil {
		return err
	}
	c := canonicalize.NewCounter(m)
	var k string
	var n int64
	for tally(&k, &n) {
		if err := c.AddTally(k, n); err != nil {
			return err
		}
	}
	v, err := f.Cfg.Vocabulary(m, c)
	if err != nil {
		return err
	}
	err = writeFiles(ctx, f.Workdir, func(wd workdir.Dir) error { return canonicalize.WriteHashtags(wd.Hashtags(), c, m) })
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := v.Write(&b); err != nil {
		return fmt.Errorf("encode vocabulary: %w", err)
	}
	emit(b.Bytes())
	return nil
}

func labelerFor(cfg canonicalize.Config, vocab []byte) (*canonicalize.Labeler, error) {
	key, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(vocab)
	return sharedValue(fmt.Sprintf("labeler\x00%s\x00%x", key, sum), func() (*canonicalize.Labeler, error) {
		m, err := mapperFor(cfg)
		if err != nil {
			return nil, err
		}
		v, err := canonicalize.ReadVocabulary(bytes.NewReader(vocab), "vocab.tsv")
		if err != nil {
			return nil, err
		}
		return canonicalize.NewLabeler(m, v), nil
	})
}

// labelFn labels a record with the vocabulary (a side input) and drops it
// when none of its hashtags is in the vocabulary.
type labelFn struct {
	Cfg canonicalize.Config
}

func (f *labelFn) ProcessElement(ctx context.Context, r Rec, vocab []byte, emit func(Rec), label func(int32)) error {
	l, err := labelerFor(f.Cfg, vocab)
	if err != nil {
		return err
	}
	ids := l.Label(r.RawTags)
	if len(ids) == 0 {
		beam.NewCounter("canonicalize", canonicalize.DropNoVocabTag).Inc(ctx, 1)
		return nil
	}
	beam.NewCounter("canonicalize", "labelled").Inc(ctx, 1)
	r.Labels, r.Tags = ids, l.Tags(ids)
	for _, id := range ids {
		label(id)
	}
	emit(r)
	return nil
}

// writeVocabFn sets the labelled counts and writes vocab.tsv, emitting
// the final bytes for the manifest step.
type writeVocabFn struct {
	Workdir string
}

func (f *writeVocabFn) ProcessElement(ctx context.Context, vocab []byte, counts func(*int32, *int) bool, emit func([]byte)) error {
	v, err := canonicalize.ReadVocabulary(bytes.NewReader(vocab), "vocab.tsv")
	if err != nil {
		return err
	}
	per := make([]int64, v.Len())
	var id int32
	var n int
	for counts(&id, &n) {
		if id >= 0 && int(id) < len(per) {
			per[id] += int64(n)
		}
	}
	v.SetCounts(per)
	if err := writeFiles(ctx, f.Workdir, func(wd workdir.Dir) error { return v.WriteFile(wd.Vocab()) }); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := v.Write(&b); err != nil {
		return fmt.Errorf("encode vocabulary: %w", err)
	}
	emit(b.Bytes())
	return nil
}
