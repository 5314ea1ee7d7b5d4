package demo

import (
	"math"
	"strings"
	"testing"
)

func TestTagForms(t *testing.T) {
	tests := []struct {
		lemmas []string
		want   []string // must all be present
		first  string
		absent []string
	}{
		{[]string{"brown_bear", "Ursus_arctos"}, []string{"brownbear", "BrownBears", "brown_bear", "brownbears", "BrownBear", "ursusarctos"}, "brownbear", []string{"Ursus_arctos", "ursus_arctos"}},
		{[]string{"owl", "bird_of_Minerva"}, []string{"owl", "owls", "Owl", "Owls", "birdofminerva"}, "owl", nil},
		{[]string{"Siberian_husky"}, []string{"siberianhusky", "SiberianHusky", "siberian_husky", "siberianhuskies"}, "siberianhusky", nil},
		{[]string{"pug", "pug-dog"}, []string{"pug", "pugs", "pugdog"}, "pug", []string{"pug-dog"}},
	}
	for _, tt := range tests {
		t.Run(tt.lemmas[0], func(t *testing.T) {
			forms := tagForms(tt.lemmas)
			got := map[string]float64{}
			var sum float64
			for _, f := range forms {
				got[f.Tag] = f.Weight
				sum += f.Weight
			}
			for _, w := range tt.want {
				if _, ok := got[w]; !ok {
					t.Errorf("missing form %q in %v", w, forms)
				}
			}
			for _, a := range tt.absent {
				if _, ok := got[a]; ok {
					t.Errorf("unexpected form %q", a)
				}
			}
			if forms[0].Tag != tt.first {
				t.Errorf("commonest form %q, want %q", forms[0].Tag, tt.first)
			}
			if math.Abs(sum-1) > 1e-3 {
				t.Errorf("weights sum to %g, want 1", sum)
			}
		})
	}
}

func TestPlural(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"bear", "bears"}, {"fox", "foxes"}, {"peach", "peaches"}, {"butterfly", "butterflies"},
		{"monkey", "monkeys"}, {"bus", "buses"}, {"Husky", "Huskies"},
	} {
		if got := plural(tt.in); got != tt.want {
			t.Errorf("plural(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsBinomial(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"Ursus_arctos", true}, {"Ursus_arctos_horribilis", true}, {"Siberian_Husky", false},
		{"brown_bear", false}, {"owl", false}, {"German_shepherd", true},
	} {
		if got := isBinomial(tt.in); got != tt.want {
			t.Errorf("isBinomial(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// slope fits log(count) = a + b log(rank) by least squares and returns b.
func slope(counts []int) float64 {
	var sx, sy, sxx, sxy, n float64
	for i, c := range counts {
		if c == 0 {
			continue
		}
		x, y := math.Log(float64(i+1)), math.Log(float64(c))
		sx, sy, sxx, sxy, n = sx+x, sy+y, sxx+x*x, sxy+x*y, n+1
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

// TestZipfShape plans crawls (no images) and checks concept frequencies
// fall on a line of the configured slope on log-log axes.
func TestZipfShape(t *testing.T) {
	entries := mustConcepts(t)
	for _, s := range []float64{0.7, 0.9, 1.2} {
		cfg := Default()
		cfg.ZipfExponent = s
		p := planWorld(cfg, entries)
		byWNID := map[string]int{}
		for _, r := range p.records {
			if r.kind == kindPhoto {
				byWNID[r.scene.main]++
			}
		}
		counts := make([]int, len(p.concepts))
		for _, c := range p.concepts {
			counts[c.Rank-1] = byWNID[c.WNID]
		}
		// Ranks 1..100 hold enough images per concept for a tight fit.
		if got := slope(counts[:100]); math.Abs(got+s) > 0.08 {
			t.Errorf("s=%g: log-log slope %.3f, want %.3f ± 0.08", s, got, -s)
		}
		if counts[0] <= 10*counts[len(counts)-1] {
			t.Errorf("s=%g: head %d vs tail %d, want a long tail", s, counts[0], counts[len(counts)-1])
		}
	}
}

// TestTagNoise checks rates of wrong, untagged and caption records and that
// every tag is a known form of the concept the truth says it names.
func TestTagNoise(t *testing.T) {
	cfg := Default()
	cfg.CrawlImages = 20000
	p := planWorld(cfg, mustConcepts(t))
	forms := map[string]map[string]bool{}
	for _, c := range p.concepts {
		forms[c.WNID] = map[string]bool{}
		for _, f := range c.TagForms {
			forms[c.WNID][f.Tag] = true
		}
	}
	nonVisual := map[string]bool{}
	for _, nv := range nonVisualTags {
		nonVisual[nv] = true
	}
	photos := 0
	var wrong, untagged, caption, multiForm int
	distinct := map[string]bool{}
	for _, r := range p.records {
		if r.kind != kindPhoto {
			continue
		}
		photos++
		if r.wrong {
			wrong++
			if contains(r.shows, r.tagged[0]) {
				t.Errorf("%s: wrong tag %s names a concept it shows", r.id, r.tagged[0])
			}
		}
		if len(r.tagged) == 0 {
			untagged++
		}
		tags := r.tags
		if r.caption != "" {
			caption++
			for _, f := range strings.Fields(r.caption) {
				if strings.HasPrefix(f, "#") {
					tags = append(tags, f[1:])
				}
			}
		}
		if len(tags) == 0 {
			t.Fatalf("%s: no tags", r.id)
		}
		for _, tg := range tags {
			distinct[tg] = true
			known := nonVisual[tg]
			for _, c := range r.tagged {
				known = known || forms[c][tg] || tg == familyTag(p.concepts[indexOf(p.concepts, c)].Family)
			}
			if !known {
				t.Errorf("%s: tag %q names none of %v", r.id, tg, r.tagged)
			}
		}
		n := 0
		for _, tg := range tags {
			if len(r.tagged) > 0 && forms[r.tagged[0]][tg] {
				n++
			}
		}
		if n > 1 {
			multiForm++
		}
	}
	for _, rt := range []struct {
		name      string
		got, want float64
	}{
		{"wrong", float64(wrong) / float64(photos), cfg.WrongTagRate * (1 - cfg.UntaggedRate)},
		{"untagged", float64(untagged) / float64(photos), cfg.UntaggedRate},
		{"caption", float64(caption) / float64(photos), cfg.CaptionRate},
	} {
		if math.Abs(rt.got-rt.want) > 0.015 {
			t.Errorf("%s rate %.3f, want %.3f ± 0.015", rt.name, rt.got, rt.want)
		}
	}
	if multiForm == 0 {
		t.Errorf("no record uses two spellings of one concept")
	}
	if len(distinct) < 3*len(p.concepts) {
		t.Errorf("%d distinct tags for %d concepts, want several spellings each", len(distinct), len(p.concepts))
	}
}

func indexOf(cs []Concept, wnid string) int {
	for i, c := range cs {
		if c.WNID == wnid {
			return i
		}
	}
	return -1
}
