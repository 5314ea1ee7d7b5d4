package demo

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// conceptTable is the embedded list of WordNet 3.0 noun synsets the world
// draws from, one per line: wnid, family, lemmas, hypernym path, gloss (tab
// separated; lemmas and path comma separated). Every lemma's first noun
// sense is the line's synset, so a canonicalizer that maps a hashtag to the
// first sense of its lemma finds the concept. concepts_test.go checks the
// table against /usr/share/wordnet and rebuilds it with -update.
//
//go:embed concepts.tsv
var conceptTable string

// conceptEntry is one row of the embedded concept table.
type conceptEntry struct {
	wnid   string
	family string   // lemma of the subtree root ("dog", "edible_fruit")
	lemmas []string // WordNet spelling, underscores for spaces
	path   []string // wnids from the family root down to the direct hypernym
	gloss  string
}

// parseConceptTable reads the tab-separated concept table.
func parseConceptTable(text string) ([]conceptEntry, error) {
	var out []conceptEntry
	for i, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("parse concept table line %d: got %d fields, want 5", i+1, len(f))
		}
		if len(f[0]) != 9 || f[0][0] != 'n' || f[2] == "" || f[3] == "" {
			return nil, fmt.Errorf("parse concept table line %d: malformed row %q", i+1, line)
		}
		out = append(out, conceptEntry{
			wnid:   f[0],
			family: f[1],
			lemmas: strings.Split(f[2], ","),
			path:   strings.Split(f[3], ","),
			gloss:  f[4],
		})
	}
	return out, nil
}

// formatConceptTable writes rows in the format parseConceptTable reads.
func formatConceptTable(rows []conceptEntry) string {
	var b strings.Builder
	b.WriteString("# wnid\tfamily\tlemmas\thypernym path (family root first)\tgloss\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\n", r.wnid, r.family,
			strings.Join(r.lemmas, ","), strings.Join(r.path, ","), strings.ReplaceAll(r.gloss, "\t", " "))
	}
	return b.String()
}

// embeddedConcepts parses the embedded table.
func embeddedConcepts() ([]conceptEntry, error) {
	return parseConceptTable(conceptTable)
}

// offset is the synset's byte offset in data.noun, from its wnid.
func (c conceptEntry) offset() int {
	n, _ := strconv.Atoi(c.wnid[1:])
	return n
}

// name is the concept's display name: its first lemma with spaces.
func (c conceptEntry) name() string { return strings.ReplaceAll(c.lemmas[0], "_", " ") }
