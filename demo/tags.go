package demo

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"unicode"
)

// TagForm is one hashtag spelling of a concept and how often the world uses
// it relative to the concept's other forms.
type TagForm struct {
	Tag    string  `json:"tag"`
	Weight float64 `json:"weight"`
}

// nonVisualTags are popular hashtags that say nothing about what an image
// shows; several are WordNet nouns, so a canonicalizer must cope with them.
var nonVisualTags = []string{
	"love", "instagood", "photooftheday", "picoftheday", "tbt", "happy", "beautiful",
	"followme", "nofilter", "summer", "fun", "instadaily", "repost", "weekend",
	"travel", "style", "friends", "life", "art", "nature", "me", "smile", "photography",
	"likeforlike", "follow4follow", "throwback", "mood", "vibes", "goals", "sunday",
}

// familyTags are the everyday words people use for a family's subtree.
var familyTags = map[string]string{
	"edible_fruit": "fruit", "musical_instrument": "music", "hand_tool": "tools",
	"kitchen_utensil": "kitchen", "baked_goods": "baking", "feline": "bigcat",
	"ungulate": "wildlife", "primate": "monkeys", "footwear": "footwear",
}

// familyTag returns the broad hashtag of a family ("dog", "fruit").
func familyTag(family string) string {
	if t, ok := familyTags[family]; ok {
		return t
	}
	return strings.ReplaceAll(family, "_", "")
}

// isBinomial reports whether a lemma looks like a Latin species name
// ("Ursus_arctos"): capitalised genus, lower-case epithet.
func isBinomial(lemma string) bool {
	w := strings.Split(lemma, "_")
	if len(w) < 2 || w[0] == "" || !unicode.IsUpper(rune(w[0][0])) {
		return false
	}
	for _, x := range w[1:] {
		if x == "" || x != strings.ToLower(x) {
			return false
		}
	}
	return true
}

// plural spells the regular English plural of a word.
func plural(w string) string {
	lw := strings.ToLower(w)
	switch {
	case strings.HasSuffix(lw, "s"), strings.HasSuffix(lw, "x"), strings.HasSuffix(lw, "z"),
		strings.HasSuffix(lw, "ch"), strings.HasSuffix(lw, "sh"):
		return w + "es"
	case len(lw) > 1 && strings.HasSuffix(lw, "y") && !strings.ContainsRune("aeiou", rune(lw[len(lw)-2])):
		return w[:len(w)-1] + "ies"
	default:
		return w + "s"
	}
}

// camel joins words with each one capitalised ("BrownBear").
func camel(words []string) string {
	var b strings.Builder
	for _, w := range words {
		if w == "" {
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]))
		b.WriteString(strings.ToLower(w[1:]))
	}
	return b.String()
}

// tagForms lists the hashtag spellings of a concept, commonest first: the
// first lemma written together, its plural, CamelCase and snake_case
// variants, then synonyms, and Latin names rarely.
func tagForms(lemmas []string) []TagForm {
	weights := map[string]float64{}
	add := func(tag string, w float64) {
		if tag != "" {
			weights[tag] += w
		}
	}
	for i, l := range lemmas {
		lw := 1 / math.Pow(float64(i+1), 1.5)
		if i > 0 {
			lw *= 0.5
		}
		words := strings.FieldsFunc(l, func(r rune) bool { return r == '_' || r == '-' })
		if i > 0 && isBinomial(l) { // a Latin synonym, rarely used as a tag
			add(strings.ToLower(strings.Join(words, "")), 0.15*lw)
			continue
		}
		lower := strings.ToLower(strings.Join(words, ""))
		pl := append([]string(nil), words...)
		pl[len(pl)-1] = plural(pl[len(pl)-1])
		add(lower, 0.5*lw)
		add(strings.ToLower(strings.Join(pl, "")), 0.2*lw)
		add(camel(words), 0.12*lw)
		add(camel(pl), 0.08*lw)
		if len(words) > 1 {
			add(strings.ToLower(strings.Join(words, "_")), 0.07*lw)
		}
		add(strings.ToUpper(lower), 0.03*lw)
	}
	out := make([]TagForm, 0, len(weights))
	var total float64
	for t, w := range weights {
		out = append(out, TagForm{Tag: t, Weight: w})
		total += w
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Weight != out[j].Weight {
			return out[i].Weight > out[j].Weight
		}
		return out[i].Tag < out[j].Tag
	})
	for i := range out {
		out[i].Weight = math.Round(out[i].Weight/total*1e4) / 1e4
	}
	return out
}

// sampler draws indices from a fixed discrete distribution.
type sampler struct{ cum []float64 }

func newSampler(weights []float64) sampler {
	cum := make([]float64, len(weights))
	var s float64
	for i, w := range weights {
		s += w
		cum[i] = s
	}
	return sampler{cum: cum}
}

func (s sampler) draw(r *rand.Rand) int {
	x := r.Float64() * s.cum[len(s.cum)-1]
	return min(sort.SearchFloat64s(s.cum, x), len(s.cum)-1)
}

// zipfWeights are p(rank k) ∝ 1/k^s for k = 1..n.
func zipfWeights(n int, s float64) []float64 {
	w := make([]float64, n)
	for k := range w {
		w[k] = 1 / math.Pow(float64(k+1), s)
	}
	return w
}

// captionTemplates embed hashtags in free text; %s are filled with a
// natural-language name, then the hashtags.
var captionTemplates = []string{
	"Look at this %s! %s",
	"Sunday with my %s %s",
	"can't stop looking at this %s %s",
	"%s spotted today 😍 %s",
	"Best %s ever. %s",
	"throwback to the %s we saw last summer %s",
	"My new favourite: the %s %s",
	"%s time!! %s",
}
