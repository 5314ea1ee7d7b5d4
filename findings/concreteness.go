package findings

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"weaksup/canonicalize"
	"weaksup/wordnet"
)

// PhysicalEntity is WordNet's physical_entity.n.01: tags whose synset lies
// under it name things one can see.
const PhysicalEntity = "n00001930"

// Concreteness scores how visual a tag is.
type Concreteness interface {
	// Score returns the tag's score, false when it has none.
	Score(tag string) (float64, bool)
}

// WordNetConcreteness scores a tag from its synset in WordNet: 0 for a
// synset outside physical_entity.n.01 (abstractions: #love, #summer),
// otherwise its depth, the length of its longest hypernym path to the root
// (the more specific a physical thing, the more concrete: #goldenretriever
// over #animal).
type WordNetConcreteness struct {
	Vocab *canonicalize.Vocabulary
	DB    *wordnet.DB
}

// Score implements Concreteness.
func (w WordNetConcreteness) Score(tag string) (float64, bool) {
	e, ok := w.Vocab.ByTag(tag)
	if !ok {
		return 0, false
	}
	s, err := w.DB.Synset(e.WNID)
	if err != nil {
		return 0, false
	}
	depth, physical := synsetDepth(s)
	if !physical {
		return 0, true
	}
	return float64(depth), true
}

// synsetDepth returns the longest hypernym path from s to a root and
// whether any path passes physical_entity.n.01.
func synsetDepth(s *wordnet.Synset) (int, bool) {
	physical := s.WNID() == PhysicalEntity
	depth := 0
	for _, h := range s.Hypernyms() {
		d, p := synsetDepth(h)
		depth = max(depth, d+1)
		physical = physical || p
	}
	return depth, physical
}

// RatingsConcreteness scores tags from a ratings table (published
// concreteness norms: word → score), by the tag's WordNet lemmas, its
// hashtag forms or the tag itself.
type RatingsConcreteness struct {
	Vocab   *canonicalize.Vocabulary
	DB      *wordnet.DB
	Ratings map[string]float64 // lower-case word, spaces between words
}

// Score implements Concreteness.
func (c RatingsConcreteness) Score(tag string) (float64, bool) {
	var words []string
	if e, ok := c.Vocab.ByTag(tag); ok {
		if s, err := c.DB.Synset(e.WNID); err == nil {
			words = append(words, s.Lemmas()...)
		}
		words = append(words, e.Members...)
	}
	if i := strings.LastIndex(tag, "_n"); i > 0 {
		tag = tag[:i] // "cock_n01792158": the tag a sense suffix sets apart
	}
	words = append(words, tag)
	for _, w := range words {
		if v, ok := c.Ratings[strings.ToLower(strings.ReplaceAll(w, "_", " "))]; ok {
			return v, true
		}
	}
	return 0, false
}

// ReadRatings reads a CSV file of word,score rows (extra columns are
// ignored; a first row whose score is not a number is a header).
func ReadRatings(path string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read concreteness ratings: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	out := map[string]float64{}
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read concreteness ratings %s: %w", path, err)
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("read concreteness ratings %s line %d: want word,score, got %d field(s)", path, line, len(rec))
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[1]), 64)
		if err != nil {
			if line == 1 {
				continue // header
			}
			return nil, fmt.Errorf("read concreteness ratings %s line %d: score %q is not a number", path, line, rec[1])
		}
		out[strings.ToLower(strings.TrimSpace(rec[0]))] = v
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read concreteness ratings %s: no rows", path)
	}
	return out, nil
}

// concreteness returns the scorer of the run: the ratings file when given,
// else WordNet.
func (r *runner) concreteness() (Concreteness, error) {
	vpath := r.src.Vocab[DataBase]
	if vpath == "" {
		return nil, fmt.Errorf("score concreteness: no vocab.tsv for the shards (give --vocab)")
	}
	v, err := canonicalize.LoadVocabulary(vpath)
	if err != nil {
		return nil, fmt.Errorf("score concreteness: %w", err)
	}
	db, err := wordnet.Embedded()
	if err != nil {
		return nil, err
	}
	if r.cfg.Concreteness == "" {
		return WordNetConcreteness{Vocab: v, DB: db}, nil
	}
	ratings, err := ReadRatings(r.cfg.Concreteness)
	if err != nil {
		return nil, err
	}
	return RatingsConcreteness{Vocab: v, DB: db, Ratings: ratings}, nil
}
