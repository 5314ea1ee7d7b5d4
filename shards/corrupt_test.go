package shards_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/shards"
	"weaksup/shards/shardstest"
)

func TestTruncatedShardNamesFile(t *testing.T) {
	rows := shardstest.Rows(t, 60, 5, 16)
	dir := shardstest.WriteDir(t, rows, 30, 5)
	path := filepath.Join(dir, "shard-00001.arrow")
	data := testkit.ReadFile(t, path)
	for _, keep := range []int{0, 7, len(data) / 2, len(data) - 3} {
		if err := os.WriteFile(path, data[:keep], 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := shards.OpenShard(path)
		if err == nil || !strings.Contains(err.Error(), "shard-00001.arrow") {
			t.Errorf("open shard truncated to %d of %d bytes: err = %v, want an error naming shard-00001.arrow", keep, len(data), err)
		}
		verr := shards.Verify(dir, nil)
		if verr == nil || !strings.Contains(verr.Error(), "shard-00001.arrow") || strings.Contains(verr.Error(), "shard-00000.arrow") {
			t.Errorf("verify with shard-00001.arrow truncated to %d bytes: err = %v, want an error naming only that shard", keep, verr)
		}
		ss, err := shards.OpenShardSet(dir, shards.SplitTrain)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := ss.Read(0, nil); err != nil {
			t.Errorf("read row 0 of the intact shard-00000.arrow: %v", err)
		}
		_, _, _, err = ss.Read(30, nil)
		ss.Close()
		if err == nil || !strings.Contains(err.Error(), "shard-00001.arrow") {
			t.Errorf("read row 30 with shard-00001.arrow truncated to %d bytes: err = %v, want an error naming it", keep, err)
		}
	}
}

func TestVerifyNamesBadShardAndRow(t *testing.T) {
	rows := shardstest.FakeJPEGRows(40)
	dir := shardstest.WriteDir(t, rows, 20, 4)
	if err := shards.Verify(dir, nil); err != nil {
		t.Fatalf("Verify of an intact directory: %v", err)
	}
	path := filepath.Join(dir, "shard-00001.arrow")
	data := testkit.ReadFile(t, path)
	at := bytes.Index(data, rows[27].Image) // row 7 of the second shard
	if at < 0 {
		t.Fatal("image bytes not found verbatim in the shard (were they compressed?)")
	}
	bad := bytes.Clone(data)
	bad[at] = 0 // no longer a JPEG
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	err := shards.Verify(dir, nil)
	if !errors.Is(err, shards.ErrCorrupt) || !strings.Contains(err.Error(), "shard-00001.arrow") || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("Verify with a changed byte: err = %v, want a SHA-256 mismatch naming shard-00001.arrow", err)
	}
	// With a manifest that matches the damaged file, the row check finds it.
	m, err := shards.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bad)
	m.Splits[shards.SplitTrain].Shards[1].SHA256 = hex.EncodeToString(sum[:])
	if err := shards.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	err = shards.Verify(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "shard-00001.arrow row 7") {
		t.Errorf("Verify with a non-JPEG image: err = %v, want it to name shard-00001.arrow row 7", err)
	}
}

func TestOpenShardRejectsOtherSchema(t *testing.T) {
	dir := shardstest.WriteDir(t, shardstest.FakeJPEGRows(3), 3, 4)
	// A manifest is not an Arrow file at all.
	_, err := shards.OpenShard(filepath.Join(dir, shards.ManifestName))
	if err == nil || !strings.Contains(err.Error(), shards.ManifestName) {
		t.Errorf("OpenShard(manifest.json): err = %v, want an error naming the file", err)
	}
}

func FuzzOpenShard(f *testing.F) {
	dir := shardstest.WriteDir(f, shardstest.FakeJPEGRows(5), 5, 4)
	good := testkit.ReadFile(f, filepath.Join(dir, "shard-00000.arrow"))
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("ARROW1\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.arrow")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := shards.OpenShard(path)
		if err != nil {
			return
		}
		defer s.Close()
		for i := 0; i < s.Rows(); i++ {
			if _, err := s.Row(i); err != nil {
				t.Fatalf("row %d of an opened shard: %v", i, err)
			}
		}
	})
}
