//go:build e2e

package canonicalize

import (
	"context"
	"fmt"
	"os"
	"testing"

	"weaksup/store"
	"weaksup/workdir"
)

// TestRunLargeStore runs the stage over 200k generated records in a real
// store and checks every count against the corpus truth.
// go test -tags e2e -run TestRunLargeStore ./canonicalize
func TestRunLargeStore(t *testing.T) {
	m := embeddedMapper(t, First)
	const n = 200_000
	c := genCorpus(m.DB(), m, n, 20_000, 11)
	wd := workdir.Dir(t.TempDir())
	st, err := store.Open(wd.Store())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	batch := st.NewBatch()
	for i, tags := range c.tags {
		if err := batch.PutRecord(&store.Record{ID: fmt.Sprintf("r%07d", i), RawTags: tags, Outcome: store.OutcomeOK}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Flush(); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.VocabSize = 5000
	stats, err := Run(context.Background(), st, wd, cfg, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadVocabulary(wd.Vocab())
	if err != nil {
		t.Fatal(err)
	}
	var labelled int64
	for i := range c.tags {
		in := false
		for s := range c.truth[i] {
			if _, ok := v.BySynset(s); ok {
				in = true
			}
		}
		if in {
			labelled++
		}
	}
	if stats.Records != n || stats.Labelled != labelled || stats.Dropped != n-labelled || stats.Vocab != 5000 {
		t.Errorf("stats %+v, want %d records, %d labelled, %d dropped, vocab 5000", stats, n, labelled, n-labelled)
	}
	got := int64(0)
	if err := st.ScanLabels(func(id string, l store.Labels) error { got++; return nil }); err != nil {
		t.Fatal(err)
	}
	if got != labelled {
		t.Errorf("%d records with labels in the store, want %d", got, labelled)
	}
}
