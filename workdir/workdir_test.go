package workdir

import (
	"path/filepath"
	"testing"
)

func TestLayout(t *testing.T) {
	d := Dir(filepath.Join("runs", "work"))
	for _, tc := range []struct{ got, want string }{
		{d.String(), "runs/work"},
		{d.Store(), "runs/work/store"},
		{d.Stages(), "runs/work/stages"},
		{d.StageRecord("dedup"), "runs/work/stages/dedup.json"},
		{d.IngestStats(), "runs/work/ingest-stats"},
		{d.Vocab(), "runs/work/vocab.tsv"},
		{d.Hashtags(), "runs/work/hashtags.tsv"},
		{d.TestSets(), "runs/work/testsets"},
		{d.Reports(), "runs/work/reports"},
		{d.Shards(), "runs/work/shards"},
	} {
		if tc.got != filepath.FromSlash(tc.want) {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
