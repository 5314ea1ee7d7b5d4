package shards

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRecoverSwap(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "shards")
	if err := os.MkdirAll(out+".old", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out+".old", ManifestName), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := recoverSwap(out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, ManifestName)); err != nil {
		t.Errorf("old shards not restored after an interrupted swap: %v", err)
	}
}
