package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// readAll drains r: the records, the line errors as "line:reason", and the
// error that ended the stream (nil for io.EOF).
func readAll(t testing.TB, r Reader) ([]Input, []string, error) {
	var ins []Input
	var bad []string
	for range 1 << 20 {
		in, err := r.Next()
		var le *LineError
		switch {
		case err == io.EOF:
			return ins, bad, nil
		case errors.As(err, &le):
			bad = append(bad, strings.Join([]string{itoa(le.Line), le.Reason}, ":"))
		case err != nil:
			return ins, bad, err
		default:
			ins = append(ins, in)
		}
	}
	t.Fatalf("reader did not reach the end after %d calls", 1<<20)
	return nil, nil, nil
}

func itoa(n int64) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		return appendInt(append(b, '-'), -n)
	}
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestJSONLReader(t *testing.T) {
	tests := []struct {
		name    string
		cols    Columns
		text    string
		want    []Input
		wantBad []string
	}{
		{
			name: "tags array and caption",
			text: `{"id":"a","url":"http://x.org/1.jpg","tags":["#cat","dog"]}
{"id":7,"url":"http://x.org/2.jpg","caption":"sunny #beach day"}
`,
			want: []Input{
				{ID: "a", URL: "http://x.org/1.jpg", Tags: []string{"cat", "dog"}, Line: 1},
				{ID: "7", URL: "http://x.org/2.jpg", Caption: "sunny #beach day", Line: 2},
			},
		},
		{
			name: "bad lines are reported and skipped",
			text: "{\"url\":\"http://x.org/1.jpg\"}\n{not json\n\n{\"id\":\"q\"}\n{\"URL\":\"http://x.org/2.jpg\",\"TEXT\":\"hi\",\"tags\":\"a, b #c\"}\r\n[1,2]\n{\"url\":5.5e3}",
			want: []Input{
				{URL: "http://x.org/1.jpg", Line: 1},
				{URL: "http://x.org/2.jpg", Caption: "hi", Tags: []string{"a", "b", "c"}, Line: 5},
				{URL: "5.5e3", Line: 7},
			},
			wantBad: []string{"2:bad_line", "4:no_url", "6:bad_line"},
		},
		{
			name: "named columns",
			cols: Columns{ID: "key", URL: "src", Tags: "labels"},
			text: `{"key":"k1","src":"https://y.net/a.png","labels":["x"],"url":"http://ignored/"}`,
			want: []Input{{ID: "k1", URL: "https://y.net/a.png", Tags: []string{"x"}, Line: 1}},
		},
		{
			name:    "wrong types",
			text:    `{"url":["http://x.org/1.jpg"]}` + "\n" + `{"url":"http://x.org/1.jpg","tags":{"a":1}}`,
			wantBad: []string{"1:bad_line", "2:bad_line"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bad, err := readAll(t, NewJSONLReader(strings.NewReader(tt.text), tt.cols))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("records:\n got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(bad, tt.wantBad) {
				t.Errorf("bad lines: got %v, want %v", bad, tt.wantBad)
			}
		})
	}
}

func TestJSONLReaderLongLine(t *testing.T) {
	text := `{"url":"http://x.org/1.jpg"}` + "\n" + `{"url":"` + strings.Repeat("a", MaxLineBytes+10) + `"}` + "\n" + `{"url":"http://x.org/3.jpg"}`
	got, bad, err := readAll(t, NewJSONLReader(strings.NewReader(text), Columns{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Line != 3 {
		t.Errorf("got %+v, want lines 1 and 3", got)
	}
	if want := []string{"2:bad_line"}; !reflect.DeepEqual(bad, want) {
		t.Errorf("bad lines: got %v, want %v", bad, want)
	}
}

func TestCSVReader(t *testing.T) {
	tests := []struct {
		name    string
		tab     bool
		cols    Columns
		text    string
		want    []Input
		wantBad []string
	}{
		{
			name: "csv with quotes",
			text: "\ufeffid,URL,tags,caption\n1,http://x.org/1.jpg,\"cat dog\",\"a, #b\"\n2,,x,y\n3,http://x.org/3.jpg\n\"4,http://x.org/4.jpg,a,b\n",
			want: []Input{
				{ID: "1", URL: "http://x.org/1.jpg", Tags: []string{"cat", "dog"}, Caption: "a, #b", Line: 2},
				{ID: "3", URL: "http://x.org/3.jpg", Line: 4}, // short rows keep what they have
			},
			wantBad: []string{"3:no_url", "5:bad_line"},
		},
		{
			name: "tsv keeps quotes",
			tab:  true,
			cols: Columns{URL: "image", Caption: "alt"},
			text: "image\talt\n\"http://x.org/1.jpg\"\tsay \"hi\" #now\n\nhttp://x.org/2.jpg\n",
			want: []Input{
				{URL: `"http://x.org/1.jpg"`, Caption: `say "hi" #now`, Line: 2},
				{URL: "http://x.org/2.jpg", Line: 4},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewCSVReader(strings.NewReader(tt.text), tt.tab, tt.cols)
			if err != nil {
				t.Fatal(err)
			}
			got, bad, err := readAll(t, r)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("records:\n got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(bad, tt.wantBad) {
				t.Errorf("bad lines: got %v, want %v", bad, tt.wantBad)
			}
		})
	}
}

func TestCSVReaderHeaderErrors(t *testing.T) {
	for _, text := range []string{"", "id,caption\n1,x\n", "a\tb\n"} {
		if _, err := NewCSVReader(strings.NewReader(text), false, Columns{}); err == nil {
			t.Errorf("NewCSVReader(%q) = nil error, want one", text)
		}
	}
	_, err := NewCSVReader(strings.NewReader("url\n"), false, Columns{Tags: "labels"})
	if !errors.Is(err, ErrNoColumn) {
		t.Errorf("missing named column: got %v, want ErrNoColumn", err)
	}
}

// yfccLine builds a 23 column YFCC100M line.
func yfccLine(id, title, tags, url, marker string) string {
	f := make([]string, yfccColumns)
	for i := range f {
		f[i] = "x"
	}
	f[yfccID], f[yfccTitle], f[yfccUserTags], f[yfccDownload], f[yfccMarker] = id, title, tags, url, marker
	return strings.Join(f, "\t")
}

func TestYFCCReader(t *testing.T) {
	long := strings.Split(yfccLine("99", "t", "a", "http://f.org/99.jpg", "0"), "\t")
	long = append([]string{"17", long[0], "hash"}, long[1:]...) // 25 column layout
	text := strings.Join([]string{
		yfccLine("1", "my+%23sunset+pic", "new%2Byork,sun+set,%23beach", "http://f.org/1.jpg", "0"),
		yfccLine("2", "video", "a", "http://f.org/2.mp4", "1"),
		"1\t2\t3",
		yfccLine("3", "%zz", "a", "http://f.org/3.jpg", "0"),
		yfccLine("4", "", "", "", "0"),
		strings.Join(long, "\t"),
		yfccLine("5", "", "", "http://f.org/5.jpg", "2"),
	}, "\n")
	got, bad, err := readAll(t, NewYFCCReader(strings.NewReader(text)))
	if err != nil {
		t.Fatal(err)
	}
	want := []Input{
		{ID: "1", URL: "http://f.org/1.jpg", Caption: "my #sunset pic", Tags: []string{"new+york", "sun set", "beach"}, Line: 1},
		{ID: "99", URL: "http://f.org/99.jpg", Caption: "t", Tags: []string{"a"}, Line: 6},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records:\n got %+v\nwant %+v", got, want)
	}
	wantBad := []string{"2:skipped_video", "3:bad_line", "4:bad_line", "5:no_url", "7:bad_line"}
	if !reflect.DeepEqual(bad, wantBad) {
		t.Errorf("bad lines: got %v, want %v", bad, wantBad)
	}
}

func TestOpenInputCompressed(t *testing.T) {
	text := []byte(`{"id":"a","url":"http://x.org/1.jpg","caption":"#x"}` + "\n" + `{"id":"b","url":"http://x.org/2.jpg"}` + "\n")
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(text)
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(text)
	zw.Close()
	dir := t.TempDir()
	files := map[string][]byte{"plain.jsonl": text, "in.jsonl.gz": gz.Bytes(), "in.jsonl.zst": zs.Bytes(), "noext": gz.Bytes()}
	want, _, _ := readAll(t, NewJSONLReader(bytes.NewReader(text), Columns{}))
	if len(want) != 2 {
		t.Fatalf("plain reader read %d records, want 2", len(want))
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		format := FormatAuto
		if name == "noext" {
			format = FormatJSONL
		}
		f, err := OpenInput(path, format, Columns{})
		if err != nil {
			t.Fatalf("OpenInput(%s): %v", name, err)
		}
		got, bad, err := readAll(t, f)
		f.Close()
		if err != nil || len(bad) > 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v %v %v, want %+v", name, got, bad, err, want)
		}
	}
	if _, err := OpenInput(filepath.Join(dir, "noext"), FormatAuto, Columns{}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("auto format of noext: got %v, want ErrUnknownFormat", err)
	}
}

func TestDetectFormat(t *testing.T) {
	tests := map[string]string{
		"a/b.jsonl": FormatJSONL, "x.ndjson.gz": FormatJSONL, "x.CSV.zst": FormatCSV, "x.tsv": FormatTSV,
		"laion.parquet": FormatParquet, "yfcc100m_dataset": FormatYFCC, "yfcc100m_dataset.bz2x.gz": FormatYFCC,
	}
	for path, want := range tests {
		if got, err := DetectFormat(path); got != want || err != nil {
			t.Errorf("DetectFormat(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
}

func TestRecordTags(t *testing.T) {
	tests := []struct {
		in   Input
		want []string
	}{
		{Input{Caption: "#Sun and #sea, #sun! a#b #_x #9 #"}, []string{"Sun", "sea", "sun", "_x"}},
		{Input{Tags: []string{"sea", "x"}, Caption: "the #sea at #Café"}, []string{"sea", "x", "Café"}},
		{Input{Caption: "no tags &#39; here"}, nil},
	}
	for _, tt := range tests {
		if got := recordTags(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("recordTags(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCountLines(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("a\nb\n\nc"))
	zw.Close()
	files := []struct {
		name string
		data []byte
		want int64
	}{
		{"a.jsonl", []byte("{}\n{}\n"), 2},
		{"b.jsonl.gz", gz.Bytes(), 4},
		{"c.csv", []byte("url\nx\ny"), 2},
		{"d.tsv", nil, 0},
		{"e.parquet", writeParquet(t, []parquetRow{{key: 1}, {key: 2}, {key: 3}, {key: 4}, {key: 5}}), 5},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := CountLines(context.Background(), path, FormatAuto); got != f.want || err != nil {
			t.Errorf("CountLines(%s) = %d, %v; want %d", f.name, got, err, f.want)
		}
	}
}
