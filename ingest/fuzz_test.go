package ingest

import (
	"bytes"
	"strings"
	"testing"
)

// checkStream drains a reader built from fuzz input and checks what every
// reader promises: it ends, records have a URL, line numbers increase.
func checkStream(t *testing.T, r Reader) {
	ins, _, _ := readAll(t, r)
	var last int64
	for _, in := range ins {
		if in.URL == "" {
			t.Fatalf("record without URL: %+v", in)
		}
		if in.Line <= last {
			t.Fatalf("line %d after line %d", in.Line, last)
		}
		last = in.Line
	}
}

func FuzzJSONLReader(f *testing.F) {
	f.Add([]byte(`{"id":"a","url":"http://x.org/1.jpg","tags":["#cat"],"caption":"#dog"}` + "\n{bad\n"))
	f.Add([]byte(`{"id":1e400,"url":"http://x","tags":"a,b"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStream(t, NewJSONLReader(bytes.NewReader(data), Columns{}))
	})
}

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte("id,url,tags,caption\n1,http://x.org/1.jpg,\"a b\",\"#c\"\n\"2,"), false)
	f.Add([]byte("url\ttags\nhttp://x.org/1.jpg\ta,b\n\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, tab bool) {
		r, err := NewCSVReader(bytes.NewReader(data), tab, Columns{})
		if err != nil {
			return
		}
		checkStream(t, r)
	})
}

func FuzzYFCCReader(f *testing.F) {
	f.Add([]byte(yfccLine("1", "a+%23b", "c,d%2Ce", "http://f.org/1.jpg", "0") + "\n" + yfccLine("2", "", "", "http://v", "1")))
	f.Add([]byte(strings.Repeat("\t", 24) + "0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStream(t, NewYFCCReader(bytes.NewReader(data)))
	})
}

func FuzzParquetReader(f *testing.F) {
	f.Add(writeParquet(f, []parquetRow{
		{key: 1, url: "http://x.org/1.jpg", text: "#a", tags: []string{"b"}},
		{key: 2, url: "", nullTag: true},
		{key: 3, url: "http://x.org/3.jpg"},
		{key: 4, url: "http://x.org/4.jpg"},
	}))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewParquetReader(bytes.NewReader(data), Columns{})
		if err != nil {
			return
		}
		defer r.Close()
		checkStream(t, r)
	})
}

func FuzzDecompress(f *testing.F) {
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, closeDec, err := Decompress(bytes.NewReader(data))
		if err != nil {
			return
		}
		defer closeDec()
		checkStream(t, NewJSONLReader(r, Columns{}))
	})
}
