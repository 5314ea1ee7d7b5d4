package datasets

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestCarveIsStratifiedAndRepeatable(t *testing.T) {
	// 3 classes of 10, 5 and 1 images, interleaved.
	dir := t.TempDir()
	var files Files
	for i := range 16 {
		c := int32(0)
		switch {
		case i%3 == 1 && i < 15:
			c = 1
		case i == 15:
			c = 2
		}
		path := filepath.Join(dir, fmt.Sprintf("%02d.jpg", i))
		if err := os.WriteFile(path, []byte{byte(i)}, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, Item{Path: path, Class: c})
	}
	count := func(s Split) map[int32]int {
		m := map[int32]int{}
		for i := range s.Len() {
			m[s.Class(i)]++
		}
		return m
	}
	all := count(files)
	tr, val, err := Carve(files, 0.2, 7)
	if err != nil {
		t.Fatal(err)
	}
	got := count(val)
	for c, n := range all {
		want := int(0.2 * float64(n))
		if want == 0 && n >= 2 {
			want = 1
		}
		if got[c] != want || count(tr)[c] != n-want {
			t.Errorf("class %d of %d images: %d held out, %d kept; want %d held out", c, n, got[c], count(tr)[c], want)
		}
	}
	seen := append(slices.Clone(tr.Index), val.Index...)
	slices.Sort(seen)
	if !slices.Equal(seen, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}) || !slices.IsSorted(tr.Index) || !slices.IsSorted(val.Index) {
		t.Errorf("parts %v and %v: want every image once, each part in the split's order", tr.Index, val.Index)
	}
	tr2, val2, _ := Carve(files, 0.2, 7)
	_, val3, _ := Carve(files, 0.2, 8)
	if !slices.Equal(tr.Index, tr2.Index) || !slices.Equal(val.Index, val2.Index) {
		t.Error("the same seed carved differently")
	}
	if slices.Equal(val.Index, val3.Index) {
		t.Error("another seed carved the same held-out images")
	}
	if val.Where(0) != files.Where(val.Index[0]) || val.Class(0) != files.Class(val.Index[0]) {
		t.Error("a subset's image 0 is not the split's image it indexes")
	}
	var a, b bytes.Buffer
	if err := val.Fingerprint(&a); err != nil {
		t.Fatal(err)
	}
	if err := val3.Fingerprint(&b); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two different subsets have one fingerprint")
	}
	for _, f := range []float64{0, 1, -0.1} {
		if _, _, err := Carve(files, f, 1); err == nil {
			t.Errorf("fraction %v: no error", f)
		}
	}
}
