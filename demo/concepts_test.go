package demo

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rebuild concepts.tsv from /usr/share/wordnet")

// TestConceptTable checks the embedded table is exactly what the selection
// over real WordNet yields, and that every lemma names its synset first.
func TestConceptTable(t *testing.T) {
	wn, err := loadTestWordNet(wordNetDir)
	if err != nil {
		t.Fatalf("load wordnet: %v", err)
	}
	rows, skipped, err := wn.selectConcepts(conceptFamilies)
	if err != nil {
		t.Fatalf("select concepts: %v", err)
	}
	if *update {
		t.Logf("preferred lemmas not usable (first sense elsewhere): %v", skipped)
		if err := os.WriteFile("concepts.tsv", []byte(formatConceptTable(rows)), 0o644); err != nil {
			t.Fatalf("write concepts.tsv: %v", err)
		}
		return
	}
	got, err := embeddedConcepts()
	if err != nil {
		t.Fatalf("parse embedded table: %v", err)
	}
	if g, w := formatConceptTable(got), formatConceptTable(rows); g != w {
		t.Fatalf("embedded concept table differs from WordNet selection; run go test ./demo -run TestConceptTable -update")
	}
	if len(got) < 200 {
		t.Errorf("got %d concepts, want at least 200", len(got))
	}
	seen := map[string]bool{}
	for _, c := range got {
		if seen[c.wnid] {
			t.Errorf("%s listed twice", c.wnid)
		}
		seen[c.wnid] = true
	}
	for _, c := range got {
		for _, l := range c.lemmas {
			if !wn.namesFirst(l, c.offset()) {
				t.Errorf("%s lemma %q: as a hashtag its first sense is not the concept", c.wnid, l)
			}
		}
		for _, p := range c.path {
			if seen[p] {
				t.Errorf("%s: ancestor %s is a concept too", c.wnid, p)
			}
		}
		root := wn.senses[c.family]
		if len(root) == 0 {
			t.Errorf("%s: family %q not in wordnet", c.wnid, c.family)
		}
	}
}

func TestParseConceptTable(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		want    int
	}{
		{"ok", "n02132136\tbear\tbrown_bear,Ursus_arctos\tn02131653\tlarge bear\n", false, 1},
		{"comment", "# header\nn02132136\tbear\tbrown_bear\tn02131653\tx\n", false, 1},
		{"fields", "n02132136\tbear\tbrown_bear\n", true, 0},
		{"wnid", "02132136\tbear\tbrown_bear\tn02131653\tx\n", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConceptTable(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if len(got) != tt.want {
				t.Errorf("got %d rows, want %d", len(got), tt.want)
			}
		})
	}
}
