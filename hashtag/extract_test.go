package hashtag

import (
	"reflect"
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		caption string
		want    []string
	}{
		{"A #BrownBear at dawn #wildlife #nature.", []string{"BrownBear", "wildlife", "nature"}},
		{"#brown_bear,#bruin;#Ursus", []string{"brown_bear", "bruin", "Ursus"}},
		{"#new-york is #NYC", []string{"new", "NYC"}},
		{"no tags here", nil},
		{"C# and F# are languages", nil},
		{"see page#2 and &#39;quoted&#39;", nil},
		{"#2018 #1 but #top10", []string{"top10"}},
		{"#dog #Dog #dog", []string{"dog", "Dog"}},
		{"##double #", []string{"double"}},
		{"＃東京 #café", []string{"東京", "café"}},
		{"emoji #sunset🌅 end", []string{"sunset"}},
		{"url http://x.org/#anchor", nil},
		{"#a#b", []string{"a"}},
	}
	for _, tc := range tests {
		if got := Extract(tc.caption); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Extract(%q) = %q, want %q", tc.caption, got, tc.want)
		}
	}
}

func FuzzExtract(f *testing.F) {
	for _, s := range []string{"A #BrownBear at dawn #wildlife", "C# &#39; ＃東京", "#a#b ##c", "#\xff#x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, caption string) {
		for _, h := range Extract(caption) {
			if h == "" || !strings.Contains(caption, h) {
				t.Fatalf("Extract(%q) gave %q", caption, h)
			}
			for _, r := range h {
				if !isTagRune(r) {
					t.Fatalf("Extract(%q) gave %q with %q", caption, h, r)
				}
			}
		}
	})
}
