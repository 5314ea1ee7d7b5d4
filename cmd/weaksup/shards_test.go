package main

import (
	"fmt"
	"strings"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/shards"
	"weaksup/storage/storagetest"
)

// `weaksup shards verify` and `inspect` take gs:// and s3:// URLs, finding
// the service the way its own tools do (here the fakes, through
// AWS_ENDPOINT_URL and STORAGE_EMULATOR_HOST).
func TestShardsCommandsAtURL(t *testing.T) {
	for name, start := range map[string]func(testing.TB, ...string) *storagetest.Server{"s3": storagetest.StartS3, "gcs": storagetest.StartGCS} {
		t.Run(name, func(t *testing.T) {
			srv := start(t, "data")
			srv.Env(t)
			t.Setenv("TMPDIR", t.TempDir())
			url := srv.URL("data", "run1/shards")
			w, err := shards.CreateShard(url + "/" + shards.ShardFileName(shards.SplitTrain, 0))
			if err != nil {
				t.Fatal(err)
			}
			counts := make([]int64, 3)
			for i := range 12 {
				l := int32(i % 3)
				counts[l]++
				r := shards.Row{Key: fmt.Sprintf("rec-%d", i), Image: testkit.PhotoJPEG(t, uint64(i), 16, 16, 80), Width: 16, Height: 16,
					Labels: []int32{l}, Tags: []string{fmt.Sprintf("tag%d", l)}, URL: "https://example.org/x.jpg"}
				if err := w.Append(&r); err != nil {
					t.Fatal(err)
				}
			}
			info, err := w.Close()
			if err != nil {
				t.Fatal(err)
			}
			m := &shards.Manifest{NumClasses: 3, Tags: []string{"tag0", "tag1", "tag2"}, Config: shards.DefaultConfig(),
				Splits: map[string]*shards.Split{shards.SplitTrain: {Rows: info.Rows, Bytes: info.Bytes, Shards: []shards.ShardInfo{info}, TagCounts: counts}}}
			if err := shards.WriteManifest(url, m); err != nil {
				t.Fatal(err)
			}

			code, out, errOut := runCaptured(t, "shards", "verify", url)
			if code != 0 || !strings.Contains(out, "ok  shard-00000.arrow 12 rows") || !strings.Contains(out, "all shards match the manifest") {
				t.Fatalf("shards verify %s: exit %d\n%s%s", url, code, out, errOut)
			}
			code, out, errOut = runCaptured(t, "shards", "inspect", url)
			if code != 0 || !strings.Contains(out, "shards   "+url) || !strings.Contains(out, "train    12 rows in 1 shards") {
				t.Fatalf("shards inspect %s: exit %d\n%s%s", url, code, out, errOut)
			}
			missing := srv.URL("data", "run2/shards")
			code, out, errOut = runCaptured(t, "shards", "verify", missing)
			if code != 1 || !strings.Contains(errOut, missing+"/manifest.json") || !strings.Contains(errOut, "does not exist") {
				t.Fatalf("shards verify %s: exit %d\n%s%s\nwant exit 1 and an error naming %s/manifest.json", missing, code, out, errOut, missing)
			}
		})
	}
}
