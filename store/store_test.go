package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRecordRoundTrip(t *testing.T) {
	s := openTemp(t)
	r := &Record{ID: "a1", URL: "http://x/a.jpg", RawTags: []string{"#BrownBear"}, Outcome: OutcomeOK,
		Attempts: 1, Width: 256, Height: 320, PHash: 0xdeadbeefcafef00d, Updated: time.Unix(1700000000, 0).UTC()}
	r.SHA256[0], r.SHA256[31] = 7, 9
	img := []byte{0xff, 0xd8, 1, 2, 3}
	if err := s.PutRecord(r, img); err != nil {
		t.Fatal(err)
	}
	got, err := s.Record("a1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("Record = %+v, want %+v", got, r)
	}
	gotImg, err := s.Image("a1")
	if err != nil || !reflect.DeepEqual(gotImg, img) {
		t.Errorf("Image = %v, %v; want %v", gotImg, err, img)
	}
	if _, err := s.Record("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Record(missing) err = %v, want ErrNotFound", err)
	}
}

func TestHashesOnlyOKRecords(t *testing.T) {
	s := openTemp(t)
	b := s.NewBatch()
	for i := 0; i < 10; i++ {
		r := &Record{ID: fmt.Sprintf("r%02d", i), PHash: uint64(i) * 3}
		r.SHA256[0] = byte(i)
		r.Outcome = OutcomeOK
		if i%3 == 0 {
			r.Outcome = "http_404"
		}
		if err := b.PutRecord(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	// A record that turns from ok into a failure leaves the hash index.
	if err := s.PutRecord(&Record{ID: "r01", Outcome: "decode_error"}, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := s.Hashes(func(id string, ph uint64, sha [32]byte) error {
		if ph != uint64(sha[0])*3 {
			t.Errorf("hash of %s = %d, want %d", id, ph, uint64(sha[0])*3)
		}
		got = append(got, id)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"r02", "r04", "r05", "r07", "r08"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Hashes ids = %v, want %v", got, want)
	}
	n, err := s.Count()
	if err != nil || n != 10 {
		t.Errorf("Count = %d, %v; want 10", n, err)
	}
}

func TestLabelsAndDrops(t *testing.T) {
	s := openTemp(t)
	if err := s.PutLabels("a", Labels{Tags: []string{"brownbear"}, IDs: []int32{4}}); err != nil {
		t.Fatal(err)
	}
	l, err := s.Labels("a")
	if err != nil || !reflect.DeepEqual(l, Labels{Tags: []string{"brownbear"}, IDs: []int32{4}}) {
		t.Errorf("Labels(a) = %+v, %v", l, err)
	}
	for _, d := range []struct{ id, stage, reason string }{
		{"a", "dedup", "imagenet"}, {"ab", "dedup", "sha256_repeat"}, {"b", "canonicalize", "no_vocab_tag"},
	} {
		if err := s.SetDrop(d.id, d.stage, d.reason); err != nil {
			t.Fatal(err)
		}
	}
	stage, reason, dropped, err := s.Drop("a")
	if err != nil || !dropped || stage != "dedup" || reason != "imagenet" {
		t.Errorf("Drop(a) = %q %q %v %v", stage, reason, dropped, err)
	}
	if _, _, dropped, _ := s.Drop("c"); dropped {
		t.Errorf("Drop(c) dropped, want not")
	}
	if err := s.ClearDrops("dedup"); err != nil {
		t.Fatal(err)
	}
	m, err := s.Dropped()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"b": "canonicalize:no_vocab_tag"}; !reflect.DeepEqual(m, want) {
		t.Errorf("Dropped after ClearDrops(dedup) = %v, want %v", m, want)
	}
	if _, _, dropped, _ := s.Drop("a"); dropped {
		t.Errorf("Drop(a) after clear: still dropped")
	}
	if err := s.SetDrop("x", "a/b", "r"); err == nil {
		t.Errorf("SetDrop with stage containing '/' succeeded, want error")
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(&Record{ID: "k", Outcome: OutcomeOK}, []byte("jpeg")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r, err := s.Record("k"); err != nil || !r.OK() {
		t.Errorf("after reopen Record(k) = %+v, %v", r, err)
	}
}

// TestHashRowsThumbnails reads thumbnails back from the hash index, and
// reads hash values of the first format (no thumbnail) as before.
func TestHashRowsThumbnails(t *testing.T) {
	s := openTemp(t)
	thumb := bytes.Repeat([]byte{7, 200}, 288)
	if err := s.PutRecord(&Record{ID: "new", Outcome: OutcomeOK, PHash: 42, SHA256: [32]byte{1}, Thumbnail: thumb}, nil); err != nil {
		t.Fatal(err)
	}
	old := make([]byte, hashValueLen)
	old[0] = 1
	binary.LittleEndian.PutUint64(old[1:9], 99)
	old[9] = 2
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(key(tabHash, "old"), old) }); err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	err := s.HashRows(func(id string, ph uint64, sha [32]byte, th []byte) error {
		if (id == "new" && (ph != 42 || sha[0] != 1)) || (id == "old" && (ph != 99 || sha[0] != 2)) {
			t.Errorf("row %s: phash %d sha[0] %d", id, ph, sha[0])
		}
		got[id] = bytes.Clone(th)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got["new"], thumb) || len(got["old"]) != 0 || len(got) != 2 {
		t.Errorf("thumbnails = %v, want the stored one for new and none for old", got)
	}
	// The record itself does not carry the thumbnail.
	if r, err := s.Record("new"); err != nil || len(r.Thumbnail) != 0 || r.PHash != 42 {
		t.Errorf("Record(new) = %+v, %v", r, err)
	}
	// A hash value of an unknown version is refused.
	bad := append([]byte{9}, old[1:]...)
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(key(tabHash, "zzz"), bad) }); err != nil {
		t.Fatal(err)
	}
	if err := s.HashRows(func(string, uint64, [32]byte, []byte) error { return nil }); !errors.Is(err, ErrVersion) {
		t.Errorf("HashRows over a version-9 value: %v, want ErrVersion", err)
	}
}
