package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"weaksup/store/storetest"
	"weaksup/workdir"
)

// TestCrawlFormats crawls the same three photos from every input format
// and checks that the stores agree on ids, tags, outcomes and images.
func TestCrawlFormats(t *testing.T) {
	srv := newFaultServer(t)
	u := func(i int) string { return fmt.Sprintf("%s/img/%d.jpg", srv.URL, i) }
	zst := func(s string) []byte {
		enc, _ := zstd.NewWriter(nil)
		return enc.EncodeAll([]byte(s), nil)
	}
	inputs := map[string][]byte{
		"in.jsonl": []byte(fmt.Sprintf(`{"id":"1","url":%q,"tags":["sea"],"caption":"at the #beach"}
{"id":"2","url":%q,"tags":["dog"]}
{"id":"3","url":"%s"}
`, u(1), u(2), srv.URL+"/404")),
		"in.csv.zst": zst(fmt.Sprintf("id,url,tags,caption\n1,%s,sea,at the #beach\n2,%s,dog,\n3,%s,,\n", u(1), u(2), srv.URL+"/404")),
		"in.tsv":     []byte(fmt.Sprintf("id\turl\ttags\tcaption\n1\t%s\tsea\tat the #beach\n2\t%s\tdog\t\n3\t%s\t\t\n", u(1), u(2), srv.URL+"/404")),
		"yfcc100m_dataset": []byte(strings.Join([]string{
			yfccLine("1", "at+the+%23beach", "sea", u(1), "0"),
			yfccLine("2", "", "dog", u(2), "0"),
			yfccLine("3", "", "", srv.URL+"/404", "0"),
			yfccLine("4", "", "", u(4), "1"),
		}, "\n")),
		"in.parquet": writeParquet(t, []parquetRow{
			{key: 1, url: u(1), text: "at the #beach", tags: []string{"sea"}},
			{key: 2, url: u(2), tags: []string{"dog"}},
			{key: 3, url: srv.URL + "/404"},
		}),
	}
	var want map[string]storedRecord
	for name, data := range inputs {
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		st := storetest.Open(t, workdir.Dir(dir))
		cfg := testConfig(path)
		if _, err := Run(context.Background(), st, workdir.Dir(dir), cfg, nil); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := snapshot(t, st)
		st.Close()
		for id, r := range got {
			r.Source = ""
			got[id] = r
		}
		if want == nil {
			want = got
			if len(want) != 3 || want["1"].Outcome != "ok" || want["3"].Outcome != "http_404" ||
				!reflect.DeepEqual(want["1"].RawTags, []string{"sea", "beach"}) {
				t.Fatalf("%s: %+v", name, want)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: store differs:\n got %+v\nwant %+v", name, got, want)
		}
	}
}
