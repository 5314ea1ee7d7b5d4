package beampipe

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"weaksup/dedup"
	"weaksup/demo"
	"weaksup/pipeline"
	"weaksup/shards"
	"weaksup/storage"
	"weaksup/storage/storagetest"
	"weaksup/workdir"
)

// keptRows reads every row of both splits of a shard directory: key →
// labels.
func keptRows(t *testing.T, dir string) map[string][]int32 {
	t.Helper()
	out := map[string][]int32{}
	for _, split := range []string{shards.SplitTrain, shards.SplitVal} {
		ss, err := shards.OpenShardSet(dir, split)
		if err != nil {
			t.Fatal(err)
		}
		for i := range ss.Len() {
			key, _, labels, err := ss.Read(i, nil)
			if err != nil {
				t.Fatal(err)
			}
			out[key] = append([]int32(nil), labels...)
		}
		ss.Close()
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The same crawl records, served by a loopback server that fails some
// URLs on purpose, through the embedded pipeline and through Beam on
// Prism: the same kept records with the same labels, the same vocab.tsv
// and hashtags.tsv byte for byte, the same dedup report rows, and Beam
// shards that verify. Beam with its working directory in object storage
// (a fake S3 that fails some requests; no shared directory) writes the
// same files there, the shards byte for byte.
func TestBeamMatchesEmbedded(t *testing.T) {
	w := world(t)
	srv := demo.NewServer(w.Dir, demo.ServerConfig{Seed: 3, NotFoundRate: 0.04, GarbledRate: 0.02, NotImageRate: 0.02})
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	input, err := w.WriteCrawl(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	// WriteCrawl writes into the shared world; keep this test's copy.
	mine := filepath.Join(dir, "crawl.jsonl")
	if err := os.WriteFile(mine, readFile(t, input), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(w, mine)

	emb := workdir.Dir(filepath.Join(dir, "embedded"))
	r := &pipeline.Runner{Workdir: emb, Stages: cfg.Stages()}
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	bw := workdir.Dir(filepath.Join(dir, "beam"))
	var log bytes.Buffer
	res, err := Run(context.Background(), Options{Workdir: string(bw), Config: cfg, ChunkLines: 40, Runner: "prism", Log: &log})
	if err != nil {
		t.Fatalf("beam run: %v\n%s", err, log.String())
	}
	t.Logf("beam: %d chunks, counters %v", res.Chunks, res.Counters)

	for _, name := range []string{"vocab.tsv", "hashtags.tsv", "reports/" + dedup.ReportCSV, "reports/" + dedup.RepeatsCSV} {
		a, b := readFile(t, filepath.Join(string(emb), name)), readFile(t, filepath.Join(string(bw), name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs:\nembedded:\n%s\nbeam:\n%s", name, head(a), head(b))
		}
	}
	repeats := bytes.Count(readFile(t, filepath.Join(string(emb), "reports", dedup.RepeatsCSV)), []byte("\n")) - 1
	matches := bytes.Count(readFile(t, filepath.Join(string(emb), "reports", dedup.ReportCSV)), []byte("\n")) - 1
	if repeats == 0 || matches == 0 {
		t.Errorf("the embedded run found %d repeats and %d test-set matches; the test needs some of each", repeats, matches)
	}
	want, got := keptRows(t, emb.Shards()), keptRows(t, bw.Shards())
	if len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("beam kept %d records, embedded %d; differences: %s", len(got), len(want), diffKeys(got, want))
	}
	if err := shards.Verify(bw.Shards(), io.Discard); err != nil {
		t.Errorf("beam shards do not verify: %v", err)
	}
	if n := res.Counters["ingest/outcome_ok"]; n == 0 || res.Counters["ingest/chunks_crawled"] != int64(res.Chunks) {
		t.Errorf("counters: %v", res.Counters)
	}

	s3 := storagetest.StartS3(t, "work")
	s3.Env(t)
	p := storagetest.Pass
	s3.Faults.Set(storagetest.Writes(p, p, p, storagetest.ServerError, p, p, p, storagetest.SlowDown))
	url := s3.URL("work", "beam")
	if _, err := Run(context.Background(), Options{Workdir: url, Config: cfg, ChunkLines: 40, Runner: "prism", Log: &log}); err != nil {
		t.Fatalf("beam run into %s: %v\n%s", url, err, log.String())
	}
	if s3.Faults.Injected(storagetest.ServerError) == 0 {
		t.Error("no fault injected")
	}
	s3.Faults.Set(nil)
	d, err := storage.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	local, err := storage.Open(context.Background(), string(bw), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	files, err := local.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	compared, shared := 0, 0
	for _, f := range files {
		if strings.HasPrefix(f.Key, "testsets/") {
			continue // the launcher's own cache, kept locally
		}
		shared++
		if f.Key == "shards/"+shards.ManifestName || f.Key == "beam/metrics.json" {
			continue // times differ
		}
		a, b := readFile(t, filepath.Join(string(bw), f.Key)), readObject(t, d, f.Key)
		if !bytes.Equal(a, b) {
			t.Errorf("%s in %s differs from the local working directory's", f.Key, url)
		}
		compared++
	}
	if objs, err := d.List(context.Background(), ""); err != nil || len(objs) != shared || compared < 10 {
		t.Errorf("%s holds %d objects (%v), the local working directory %d files (%d compared)", url, len(objs), err, shared, compared)
	}
	if err := shards.Verify(url+"/shards", io.Discard); err != nil {
		t.Errorf("beam shards at %s do not verify: %v", url, err)
	}
	t.Logf("%d files of the working directory compared byte for byte", compared)
}

func readObject(t *testing.T, d *storage.Dir, key string) []byte {
	t.Helper()
	b, err := d.ReadAll(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func head(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}

func diffKeys(got, want map[string][]int32) string {
	var out []string
	for k, v := range want {
		if g, ok := got[k]; !ok || !reflect.DeepEqual(g, v) {
			out = append(out, fmt.Sprintf("%s: got %v want %v", k, g, v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("%s: got %v, not kept by embedded", k, v))
		}
	}
	if len(out) > 10 {
		out = append(out[:10], "...")
	}
	return fmt.Sprint(out)
}
