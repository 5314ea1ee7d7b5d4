package dedup

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"weaksup/datasets"
)

func TestCacheRoundTrip(t *testing.T) {
	for _, ts := range []*TestSet{
		{},
		testSetOf([]string{"a.jpg", "n01/b.JPEG"}, 1),
		testSetOf([]string{"x.png"}, 2, Unreadable{"bad.jpg", "decode bad.jpg: invalid JPEG format"}),
	} {
		path := filepath.Join(t.TempDir(), "set.phash")
		if err := ts.writeCacheFile(path); err != nil {
			t.Fatal(err)
		}
		var got TestSet
		if err := got.readCacheFile(path); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Images, ts.Images) || !slices.Equal(got.Hashes, ts.Hashes) ||
			!slices.Equal(got.Mirrors, ts.Mirrors) || !slices.Equal(got.Unreadable, ts.Unreadable) ||
			(len(ts.Sigs) > 0 && !reflect.DeepEqual(got.Sigs, ts.Sigs)) || len(got.Sigs) != len(ts.Sigs) {
			t.Errorf("round trip = %+v, want %+v", got, *ts)
		}
	}
}

func TestCacheCorruption(t *testing.T) {
	ts := testSetOf([]string{"a.jpg"}, 3)
	var buf bytes.Buffer
	ts.encodeCache(&buf)
	good := buf.Bytes()
	for name, data := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXXXXXX"), good[8:]...),
		"version":   append(append([]byte(cacheMagic), 9), good[9:]...),
		"flipped":   append(append([]byte{}, good[:12]...), append([]byte{good[12] ^ 1}, good[13:]...)...),
		"truncated": good[:len(good)-5],
	} {
		var got TestSet
		if err := got.decodeCache(data); !errors.Is(err, ErrCorruptCache) {
			t.Errorf("%s: decodeCache error = %v, want ErrCorruptCache", name, err)
		}
	}
}

// TestLoadRebuildsCorruptCache checks that a damaged cache is
// reported and replaced rather than trusted.
func TestLoadRebuildsCorruptCache(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "set"), map[string]string{"a.jpg": "photo:Aqua.jpg", "b/c.jpg": "photo:Dune.jpg"})
	spec := Spec{Name: "s", Path: filepath.Join(dir, "set"), Layout: datasets.ImageFolder}
	cache := filepath.Join(dir, "cache")
	files, err := listSet(spec, datasets.ListTest)
	if err != nil {
		t.Fatal(err)
	}
	first, err := files.load(context.Background(), cache, 1, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want, err := SignFile(filepath.Join(dir, "set", "b", "c.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Images) != 2 || first.Images[1] != "b/c.jpg" || first.Hashes[1] != want.Hashes[0] {
		t.Fatalf("load = %v %x, want b/c.jpg hashed %x", first.Images, first.Hashes, want.Hashes[0])
	}
	path := cachePath(cache, spec, first.Fingerprint)
	if err := os.WriteFile(path, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	again, err := files.load(context.Background(), cache, 1, &log)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log.Bytes(), []byte("ignoring cached hashes")) || !reflect.DeepEqual(again.Hashes, first.Hashes) {
		t.Errorf("after corruption: log %q, hashes %x; want a warning and %x", log.String(), again.Hashes, first.Hashes)
	}
	var fixed TestSet
	if err := fixed.readCacheFile(path); err != nil {
		t.Errorf("cache not rewritten: %v", err)
	}
}

func FuzzDecodeCache(f *testing.F) {
	var buf bytes.Buffer
	testSetOf([]string{"a.jpg"}, 4, Unreadable{"b", "e"}).encodeCache(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(cacheMagic + "\x02\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ts TestSet
		if err := ts.decodeCache(data); err != nil {
			return
		}
		if len(ts.Images) != len(ts.Hashes) || len(ts.Images) != len(ts.Mirrors) || len(ts.Images) != len(ts.Sigs) {
			t.Fatalf("decoded %d images, %d hashes, %d mirrors", len(ts.Images), len(ts.Hashes), len(ts.Mirrors))
		}
		var again bytes.Buffer
		ts.encodeCache(&again)
		if !bytes.Equal(again.Bytes(), data) {
			t.Fatalf("decoded cache does not re-encode to its bytes")
		}
	})
}

// testSetOf makes a test set of images with random signatures.
func testSetOf(images []string, seed uint64, unreadable ...Unreadable) *TestSet {
	rng := rand.New(rand.NewPCG(seed, seed))
	ts := &TestSet{Images: images, Unreadable: unreadable}
	for range images {
		sig := Signature{Hashes: make([]uint64, len(Views)), Ref: make([]byte, RefLen)}
		for v := range sig.Hashes {
			sig.Hashes[v] = rng.Uint64()
		}
		for i := range sig.Ref {
			sig.Ref[i] = uint8(rng.IntN(256))
		}
		ts.Hashes, ts.Mirrors, ts.Sigs = append(ts.Hashes, sig.Hashes[0]), append(ts.Mirrors, sig.Hashes[1]), append(ts.Sigs, sig)
	}
	return ts
}
