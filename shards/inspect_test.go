package shards_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/shards"
	"weaksup/shards/shardstest"
)

func TestInspectAndDump(t *testing.T) {
	rows := shardstest.Rows(t, 50, 6, 16)
	rows[3].Key = "a/b c"
	dir := shardstest.WriteDir(t, rows, 20, 6)
	var out bytes.Buffer
	if err := shards.Inspect(dir, &out, 3); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"train    50 rows in 3 shards", "top tags of train", "tag0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Inspect output lacks %q:\n%s", want, out.String())
		}
	}
	dump := t.TempDir()
	n, err := shards.Dump(dir, shards.SplitTrain, 25, dump)
	if err != nil || n != 25 {
		t.Fatalf("Dump = %d, %v; want 25", n, err)
	}
	got, err := os.ReadFile(filepath.Join(dump, "000003_a_b_c.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, rows[3].Image) {
		t.Errorf("dumped image of row 3 differs from the stored JPEG")
	}
	idx := testkit.ReadFile(t, filepath.Join(dump, "index.tsv"))
	if lines := strings.Count(string(idx), "\n"); lines != 26 {
		t.Errorf("index.tsv has %d lines, want header + 25", lines)
	}
}
