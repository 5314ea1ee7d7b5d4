//go:build e2e

package shards_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"weaksup/shards"
	"weaksup/shards/shardstest"
)

// jsRow is what testdata/js/read.mjs prints for one row.
type jsRow struct {
	Key         string   `json:"key"`
	ImageSHA256 string   `json:"image_sha256"`
	ImageLen    int      `json:"image_len"`
	Width       int32    `json:"width"`
	Height      int32    `json:"height"`
	Labels      []int32  `json:"labels"`
	Tags        []string `json:"tags"`
	RawTags     []string `json:"raw_tags"`
	URL         string   `json:"url"`
	PHash       string   `json:"phash"`
	SHA256      string   `json:"sha256"`
}

// ensureArrowJS installs testdata/js/node_modules (apache-arrow and fzstd,
// pinned by package-lock.json) when it is missing.
func ensureArrowJS(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the Arrow JS interop test needs node (Debian: apt-get install nodejs npm): %v", err)
	}
	js := filepath.Join("testdata", "js")
	if _, err := os.Stat(filepath.Join(js, "node_modules", "apache-arrow")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--prefix", js)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci --prefix %s: %v\n%s", js, err, out)
		}
	}
	return node
}

// TestArrowJSReadsShards writes shards with the Go writer and reads them back
// with Arrow's JavaScript implementation, row by row.
func TestArrowJSReadsShards(t *testing.T) {
	node := ensureArrowJS(t)
	rows := shardstest.Rows(t, 1500, 30, 24) // two record batches in the first shard
	rows[7].Tags, rows[7].RawTags, rows[7].URL = []string{}, []string{}, ""
	rows[9].Key = "ünïcode/ключ"
	dir := shardstest.WriteDir(t, rows, 1100, 30)
	m, err := shards.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, sh := range m.Splits[shards.SplitTrain].Shards {
		files = append(files, filepath.Join(dir, sh.File))
	}
	cmd := exec.Command(node, append([]string{filepath.Join("testdata", "js", "read.mjs")}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node read.mjs: %v\n%s", err, stderr.String())
	}
	var got []jsRow
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<30)
	nfiles := 0
	for sc.Scan() {
		var doc struct {
			File   string   `json:"file"`
			Schema []string `json:"schema"`
			Rows   []jsRow  `json:"rows"`
		}
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		wantSchema := []string{"key:Utf8", "image:Binary", "width:Int32", "height:Int32", "labels:List<Int32>",
			"tags:List<Utf8>", "raw_tags:List<Utf8>", "url:Utf8", "phash:Uint64", "sha256:FixedSizeBinary[32]"}
		if !slices.Equal(doc.Schema, wantSchema) {
			t.Errorf("%s: arrow-js schema %v, want %v", doc.File, doc.Schema, wantSchema)
		}
		got = append(got, doc.Rows...)
		nfiles++
	}
	if nfiles != len(files) || len(got) != len(rows) {
		t.Fatalf("arrow-js read %d files and %d rows, want %d and %d", nfiles, len(got), len(files), len(rows))
	}
	for i, r := range rows {
		img := sha256.Sum256(r.Image)
		want := jsRow{Key: r.Key, ImageSHA256: hex.EncodeToString(img[:]), ImageLen: len(r.Image), Width: r.Width, Height: r.Height,
			Labels: r.Labels, Tags: r.Tags, RawTags: r.RawTags, URL: r.URL, PHash: strconv.FormatUint(r.PHash, 10), SHA256: hex.EncodeToString(r.SHA256[:])}
		g := got[i]
		if g.Key != want.Key || g.ImageSHA256 != want.ImageSHA256 || g.ImageLen != want.ImageLen || g.Width != want.Width ||
			g.Height != want.Height || !slices.Equal(g.Labels, want.Labels) || !slices.Equal(g.Tags, want.Tags) ||
			!slices.Equal(g.RawTags, want.RawTags) || g.URL != want.URL || g.PHash != want.PHash || g.SHA256 != want.SHA256 {
			t.Fatalf("row %d read by arrow-js:\n got %+v\nwant %+v", i, g, want)
		}
	}
}
