package canonicalize

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"weaksup/store"
	"weaksup/store/storetest"
	"weaksup/workdir"
)

// stageRecords are the records of the stage tests: id → raw tags; ids
// starting with "bad" are failed fetches.
var stageRecords = map[string][]string{
	"r01":  {"BrownBears", "dogs"},
	"r02":  {"bruin"},
	"r03":  {"ursus_arctos", "instagood"},
	"r04":  {"dog", "Dog", "puppies"},
	"r05":  {"instagood", "happy"},
	"r06":  {"goldfish"},
	"r07":  {"geese", "brownbear"},
	"r08":  {},
	"bad1": {"brownbear"},
}

// seedStore opens a store in a new working directory and puts records
// (id → raw tags) in it; ids starting with "bad" failed to download.
func seedStore(t *testing.T, records map[string][]string) (*store.Store, workdir.Dir) {
	t.Helper()
	wd := workdir.Dir(t.TempDir())
	st := storetest.Open(t, wd)
	t.Cleanup(func() { st.Close() })
	for id, tags := range records {
		r := &store.Record{ID: id, URL: "http://example.org/" + id, RawTags: tags, Outcome: store.OutcomeOK}
		if strings.HasPrefix(id, "bad") {
			r.Outcome = "http_404"
		}
		if err := st.PutRecord(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	return st, wd
}

func labelsOf(t *testing.T, st *store.Store) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := st.ScanLabels(func(id string, l store.Labels) error {
		if len(l.Tags) != len(l.IDs) {
			return fmt.Errorf("record %s: %d tags, %d ids", id, len(l.Tags), len(l.IDs))
		}
		out[id] = l.Tags
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dropsOf(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := st.ScanDrops(func(id, stage, reason string) error {
		out[id] = stage + ":" + reason
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRunTopK(t *testing.T) {
	st, wd := seedStore(t, stageRecords)
	cfg := DefaultConfig()
	stats, err := Run(context.Background(), st, wd, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wantStats := &Stats{
		Records: 8, Labelled: 6, Dropped: 2, Vocab: 5, Concepts: 5,
		// brownbears dogs bruin ursusarctos instagood dog puppies happy goldfish geese brownbear
		Hashtags: 11, Mapped: 9, Unmapped: map[Reason]int64{ReasonUnknown: 1, ReasonNotNoun: 1},
	}
	if !reflect.DeepEqual(stats, wantStats) {
		t.Errorf("stats:\n got  %+v\n want %+v", stats, wantStats)
	}
	// The stage record shows the same numbers under the names earlier
	// releases wrote.
	wantCounts := map[string]int64{
		"records": 8, "labelled": 6, "dropped": 2, "vocab": 5, "concepts": 5,
		"hashtags": 11, "mapped": 9, "unmapped": 2, "unmapped_unknown": 1, "unmapped_not_noun": 1,
	}
	if counts := stats.Counts(); !reflect.DeepEqual(counts, wantCounts) {
		t.Errorf("counts:\n got  %v\n want %v", counts, wantCounts)
	}
	v, err := LoadVocabulary(wd.Vocab())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range v.Entries {
		got = append(got, fmt.Sprintf("%d %s %s %d %s", e.ID, e.Tag, e.WNID, e.Count, strings.Join(e.Members, ",")))
	}
	want := []string{
		"0 brownbear n02132136 4 brownbear,bruin,ursusarctos",
		"1 dog n02084071 2 dog",
		"2 goldfish n01443537 1 goldfish",
		"3 goose n01855672 1 goose",
		"4 puppy n01322604 1 puppy",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("vocab.tsv:\n got  %q\n want %q", got, want)
	}
	wantLabels := map[string][]string{
		"r01": {"brownbear", "dog"},
		"r02": {"brownbear"},
		"r03": {"brownbear"},
		"r04": {"dog", "puppy"},
		"r06": {"goldfish"},
		"r07": {"brownbear", "goose"},
	}
	if got := labelsOf(t, st); !reflect.DeepEqual(got, wantLabels) {
		t.Errorf("labels:\n got  %v\n want %v", got, wantLabels)
	}
	wantDrops := map[string]string{"r05": "canonicalize:no_vocab_tag", "r08": "canonicalize:no_vocab_tag"}
	if got := dropsOf(t, st); !reflect.DeepEqual(got, wantDrops) {
		t.Errorf("drops: got %v, want %v", got, wantDrops)
	}
	if _, err := st.Labels("bad1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("failed record bad1 got labels: %v", err)
	}
	hashtags, err := os.ReadFile(wd.Hashtags())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hashtags), "\nhappy\t1\t\tnot_noun\n") || !strings.Contains(string(hashtags), "\nbruin\t1\tbrownbear\t\n") {
		t.Errorf("hashtags.tsv lacks the happy and bruin rows:\n%s", hashtags)
	}

	// A smaller vocabulary reruns cleanly: old labels and drops are gone.
	cfg.VocabSize = 1
	if _, err := Run(context.Background(), st, wd, cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	wantLabels = map[string][]string{"r01": {"brownbear"}, "r02": {"brownbear"}, "r03": {"brownbear"}, "r07": {"brownbear"}}
	if got := labelsOf(t, st); !reflect.DeepEqual(got, wantLabels) {
		t.Errorf("labels with --vocab-size 1:\n got  %v\n want %v", got, wantLabels)
	}
	if got := dropsOf(t, st); len(got) != 4 || got["r04"] != "canonicalize:no_vocab_tag" {
		t.Errorf("drops with --vocab-size 1: %v", got)
	}
}

// A vocabulary file keeps its ids when the records change.
func TestRunVocabFile(t *testing.T) {
	st, wd := seedStore(t, stageRecords)
	if _, err := Run(context.Background(), st, wd, DefaultConfig(), io.Discard); err != nil {
		t.Fatal(err)
	}
	fixed := filepath.Join(t.TempDir(), "fixed.tsv")
	data, err := os.ReadFile(wd.Vocab())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fixed, data, 0o644); err != nil {
		t.Fatal(err)
	}
	first, _ := LoadVocabulary(fixed)

	more := map[string][]string{"r10": {"goldfish"}, "r11": {"goldfish"}, "r12": {"goldfish", "cats"}, "r13": {"cat"}}
	for id, tags := range stageRecords {
		more[id] = tags
	}
	st2, wd2 := seedStore(t, more)
	cfg := DefaultConfig()
	cfg.VocabFile = fixed
	stats, err := Run(context.Background(), st2, wd2, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	second, err := LoadVocabulary(wd2.Vocab())
	if err != nil {
		t.Fatal(err)
	}
	if second.Hash() != first.Hash() {
		t.Error("vocabulary from --vocab-file changed its hash")
	}
	if e, _ := second.ByTag("goldfish"); e.ID != 2 || e.Count != 4 {
		t.Errorf("goldfish: id %d count %d, want id 2 (as in the file) and 4 images", e.ID, e.Count)
	}
	if stats.Dropped != 3 { // r05, r08, r13 (cat is not in the fixed vocabulary)
		t.Errorf("dropped %d, want 3", stats.Dropped)
	}
	// Without the file the same records give a different vocabulary.
	if _, err := Run(context.Background(), st2, wd2, DefaultConfig(), io.Discard); err != nil {
		t.Fatal(err)
	}
	third, _ := LoadVocabulary(wd2.Vocab())
	if third.Hash() == first.Hash() {
		t.Error("top-K vocabulary of different records has the same hash")
	}
}

func TestRunImageNet1k(t *testing.T) {
	st, wd := seedStore(t, stageRecords)
	cfg := DefaultConfig()
	cfg.Vocab = VocabImageNet1k
	stats, err := Run(context.Background(), st, wd, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Vocab != 1000 {
		t.Errorf("vocab %d, want 1000", stats.Vocab)
	}
	// dog (n02084071) and puppy are not ImageNet-1k classes; brown bear (294),
	// goose (99) and goldfish (1) are. Labels are in class order.
	want := map[string][]string{"r01": {"brownbear"}, "r02": {"brownbear"}, "r03": {"brownbear"}, "r06": {"goldfish"}, "r07": {"goose", "brownbear"}}
	if got := labelsOf(t, st); !reflect.DeepEqual(got, want) {
		t.Errorf("labels:\n got  %v\n want %v", got, want)
	}
	v, err := LoadVocabulary(wd.Vocab())
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := entryOf(v, "n02132136"); !ok || e.Count != 4 || e.ID != 294 {
		t.Errorf("brown bear entry %+v, want ImageNet class 294 with 4 images", e)
	}
}

func TestRunCancelled(t *testing.T) {
	st, wd := seedStore(t, stageRecords)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, st, wd, DefaultConfig(), io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("Run(cancelled) = %v, want context.Canceled", err)
	}
}

func TestConfig(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var cfg Config
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, DefaultConfig()) {
		t.Errorf("flag defaults %+v, want %+v", cfg, DefaultConfig())
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("default config: %v", err)
	}
	if fp, err := cfg.Fingerprint(); err != nil || fp != "" {
		t.Errorf("default fingerprint %q, %v; want empty", fp, err)
	}
	if err := fs.Parse([]string{"--sense-policy", "all", "--vocab-size", "100", "--min-count", "5", "--vocab", "imagenet1k"}); err != nil {
		t.Fatal(err)
	}
	if cfg.SensePolicy != "all" || cfg.VocabSize != 100 || cfg.MinCount != 5 || cfg.Vocab != VocabImageNet1k {
		t.Errorf("parsed %+v", cfg)
	}
	bad := []struct {
		mut  func(*Config)
		flag string
	}{
		{func(c *Config) { c.SensePolicy = "most" }, "--sense-policy"},
		{func(c *Config) { c.Vocab = "top5k" }, "--vocab"},
		{func(c *Config) { c.VocabSize = 0 }, "--vocab-size"},
		{func(c *Config) { c.MinCount = 0 }, "--min-count"},
		{func(c *Config) { c.Vocab = VocabImageNet1k; c.VocabFile = "v.tsv" }, "--vocab-file"},
	}
	for _, b := range bad {
		c := DefaultConfig()
		b.mut(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), b.flag) {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", c, err, b.flag)
		}
	}
	// The fingerprint follows the vocabulary file's content.
	path := filepath.Join(t.TempDir(), "v.tsv")
	c := DefaultConfig()
	c.VocabFile = path
	os.WriteFile(path, []byte(VocabHeader+"\n0\tdog\tn02084071\t1\t\n"), 0o644)
	a, err := c.Fingerprint()
	if err != nil || a == "" {
		t.Fatalf("fingerprint %q, %v", a, err)
	}
	os.WriteFile(path, []byte(VocabHeader+"\n0\tcat\tn02121620\t1\t\n"), 0o644)
	if b, _ := c.Fingerprint(); b == a {
		t.Error("fingerprint did not change with the vocabulary file")
	}
	c.VocabFile = filepath.Join(t.TempDir(), "missing.tsv")
	if _, err := c.Fingerprint(); err == nil {
		t.Error("fingerprint of a missing vocabulary file gave no error")
	}
}
