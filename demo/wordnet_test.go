package demo

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// wordNetDir is the Debian wordnet-base database the tests read to check
// (and, with -update, rebuild) the embedded concept table.
const wordNetDir = "/usr/share/wordnet"

// testSynset is one noun synset as read from data.noun.
type testSynset struct {
	offset    int
	lexFile   int
	lemmas    []string // as written, underscores for spaces
	lexIDs    []int
	hypernyms []int // "@" pointers
	hyponyms  []int // "~" pointers (not instance hyponyms)
	gloss     string
}

// testWordNet is a small reader of the WordNet noun database, used only by
// the tests so the package itself carries no WordNet parser.
type testWordNet struct {
	synsets map[int]*testSynset
	senses  map[string][]int    // lowercase lemma -> synset offsets in sense order
	ranked  map[string][]int    // the same, untagged senses in ascending offset order
	byKey   map[string][]string // joined form ("brownbear") -> lemmas
	counts  map[string]int      // sense key -> tag count (cntlist.rev)
}

func loadTestWordNet(dir string) (*testWordNet, error) {
	wn := &testWordNet{
		synsets: map[int]*testSynset{}, senses: map[string][]int{}, counts: map[string]int{},
		ranked: map[string][]int{}, byKey: map[string][]string{},
	}
	if err := eachLine(filepath.Join(dir, "data.noun"), wn.parseData); err != nil {
		return nil, err
	}
	if err := eachLine(filepath.Join(dir, "index.noun"), wn.parseIndex); err != nil {
		return nil, err
	}
	if err := eachLine(filepath.Join(dir, "cntlist.rev"), wn.parseCount); err != nil {
		return nil, err
	}
	return wn, nil
}

func eachLine(path string, fn func(string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open wordnet file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "  ") || line == "" {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("parse %s line %d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

func (wn *testWordNet) parseData(line string) error {
	body, gloss, _ := strings.Cut(line, " | ")
	f := strings.Fields(body)
	if len(f) < 4 {
		return fmt.Errorf("short data line")
	}
	off, err := strconv.Atoi(f[0])
	if err != nil {
		return fmt.Errorf("offset %q: %w", f[0], err)
	}
	lex, _ := strconv.Atoi(f[1])
	wcnt, err := strconv.ParseInt(f[3], 16, 32)
	if err != nil {
		return fmt.Errorf("word count %q: %w", f[3], err)
	}
	s := &testSynset{offset: off, lexFile: lex, gloss: gloss}
	i := 4
	for k := 0; k < int(wcnt); k++ {
		if i+1 >= len(f) {
			return fmt.Errorf("truncated lemma list")
		}
		s.lemmas = append(s.lemmas, f[i])
		id, _ := strconv.ParseInt(f[i+1], 16, 32)
		s.lexIDs = append(s.lexIDs, int(id))
		i += 2
	}
	pcnt, err := strconv.Atoi(f[i])
	if err != nil {
		return fmt.Errorf("pointer count %q: %w", f[i], err)
	}
	i++
	for k := 0; k < pcnt; k++ {
		if i+3 >= len(f) {
			return fmt.Errorf("truncated pointer list")
		}
		sym, target, pos := f[i], f[i+1], f[i+2]
		i += 4
		if pos != "n" {
			continue
		}
		t, err := strconv.Atoi(target)
		if err != nil {
			return fmt.Errorf("pointer target %q: %w", target, err)
		}
		switch sym {
		case "@":
			s.hypernyms = append(s.hypernyms, t)
		case "~":
			s.hyponyms = append(s.hyponyms, t)
		}
	}
	wn.synsets[off] = s
	return nil
}

func (wn *testWordNet) parseIndex(line string) error {
	f := strings.Fields(line)
	if len(f) < 4 {
		return fmt.Errorf("short index line")
	}
	scnt, err := strconv.Atoi(f[2])
	if err != nil {
		return fmt.Errorf("synset count %q: %w", f[2], err)
	}
	offs := f[len(f)-scnt:]
	for _, o := range offs {
		v, err := strconv.Atoi(o)
		if err != nil {
			return fmt.Errorf("synset offset %q: %w", o, err)
		}
		wn.senses[f[0]] = append(wn.senses[f[0]], v)
	}
	// Rank like a canonicalizer that trusts only tagged sense order: the
	// senses WordNet ordered by tag counts first, then the untagged ones
	// in ascending offset order.
	tagged, err := strconv.Atoi(f[len(f)-scnt-1])
	if err != nil {
		return fmt.Errorf("tagged sense count %q: %w", f[len(f)-scnt-1], err)
	}
	ranked := append([]int(nil), wn.senses[f[0]]...)
	if rest := ranked[min(tagged, len(ranked)):]; len(rest) > 1 {
		sort.Ints(rest)
	}
	wn.ranked[f[0]] = ranked
	k := joinedKey(f[0])
	wn.byKey[k] = append(wn.byKey[k], f[0])
	return nil
}

// joinedKey is a lemma as a hashtag writes it: lower case, letters and
// digits only ("brown_bear" -> "brownbear").
func joinedKey(lemma string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(lemma) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// namesFirst reports whether every lemma spelled like l as a hashtag has
// the synset off as its first ranked sense.
func (wn *testWordNet) namesFirst(l string, off int) bool {
	names := wn.byKey[joinedKey(l)]
	if len(names) == 0 {
		return false
	}
	for _, n := range names {
		if r := wn.ranked[n]; len(r) == 0 || r[0] != off {
			return false
		}
	}
	return true
}

func (wn *testWordNet) parseCount(line string) error {
	f := strings.Fields(line)
	if len(f) != 3 {
		return nil
	}
	c, err := strconv.Atoi(f[2])
	if err != nil {
		return fmt.Errorf("count %q: %w", f[2], err)
	}
	wn.counts[f[0]] = c
	return nil
}

// senseKey builds the sense key of a lemma in a noun synset, as cntlist.rev
// spells it ("brown_bear%1:05:00::").
func (wn *testWordNet) senseKey(s *testSynset, i int) string {
	return fmt.Sprintf("%s%%1:%02d:%02d::", strings.ToLower(s.lemmas[i]), s.lexFile, s.lexIDs[i])
}

// wnid spells a noun synset offset the way ImageNet does ("n02132136").
func wnid(offset int) string { return fmt.Sprintf("n%08d", offset) }
