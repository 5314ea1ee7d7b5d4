package demo

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
)

type recordKind uint8

const (
	kindPhoto     recordKind = iota // a freshly drawn image
	kindRepost                      // the bytes of an earlier record's image
	kindDuplicate                   // a transformed copy of a target val image
)

var kindNames = [...]string{"photo", "repost", "duplicate"}

// record is one planned crawl record and its ground truth.
type record struct {
	id, key   string
	kind      recordKind
	scene     sceneSpec
	tags      []string // without '#'; empty for caption records
	caption   string
	shows     []string // wnids in the image
	tagged    []string // wnids whose tags the record carries
	wrong     bool     // the main concept's tag names another concept
	source    string   // repost: original record id; duplicate: target image path
	transform string
}

// plan is everything Generate decides before drawing a pixel.
type plan struct {
	concepts     []Concept
	target       TargetTask
	targetImages []imageJob
	records      []*record
	duplicates   []Duplicate
	summary      CrawlSummary
}

// tagger draws hashtags for concepts.
type tagger struct {
	forms     map[string][]TagForm
	samplers  map[string]sampler
	nonVisual sampler
	names     map[string]string
	families  map[string]string
}

func newTagger(chosen []conceptEntry) *tagger {
	t := &tagger{forms: map[string][]TagForm{}, samplers: map[string]sampler{}, names: map[string]string{}, families: map[string]string{}}
	for _, c := range chosen {
		f := tagForms(c.lemmas)
		t.forms[c.wnid] = f
		w := make([]float64, len(f))
		for i := range f {
			w[i] = f[i].Weight
		}
		t.samplers[c.wnid] = newSampler(w)
		t.names[c.wnid] = c.name()
		t.families[c.wnid] = c.family
	}
	t.nonVisual = newSampler(zipfWeights(len(nonVisualTags), 1))
	return t
}

func (t *tagger) form(r *rand.Rand, wnid string) string {
	return t.forms[wnid][t.samplers[wnid].draw(r)].Tag
}

// label fills a record's tags or caption: the main concept (or, at the
// wrong-tag rate, another one), a co-occurring concept, sometimes the
// family's broad tag, and non-visual tags.
func (t *tagger) label(r *rand.Rand, cfg WorldConfig, rec *record, all []string) {
	var tags []string
	if r.Float64() < cfg.UntaggedRate {
		rec.tagged = nil
	} else {
		named := rec.scene.main
		if r.Float64() < cfg.WrongTagRate && len(all) > 1 {
			for named == rec.scene.main {
				named = all[r.IntN(len(all))]
			}
			rec.wrong = true
		}
		tags = append(tags, t.form(r, named))
		if r.Float64() < 0.2 {
			if f := t.form(r, named); f != tags[0] {
				tags = append(tags, f)
			}
		}
		rec.tagged = append(rec.tagged, named)
		if o := rec.scene.other; o != "" && o != named {
			tags = append(tags, t.form(r, o))
			rec.tagged = append(rec.tagged, o)
		}
		if r.Float64() < 0.25 {
			tags = append(tags, familyTag(t.families[named]))
		}
	}
	for k := r.IntN(5); k > 0 || len(tags) == 0; k-- {
		nv := nonVisualTags[t.nonVisual.draw(r)]
		if !contains(tags, nv) {
			tags = append(tags, nv)
		}
	}
	r.Shuffle(len(tags), func(i, j int) { tags[i], tags[j] = tags[j], tags[i] })
	if r.Float64() < cfg.CaptionRate {
		name := "view"
		if len(rec.tagged) > 0 {
			name = t.names[rec.tagged[0]]
		}
		hs := make([]string, len(tags))
		for i, tg := range tags {
			hs[i] = "#" + tg
		}
		rec.caption = fmt.Sprintf(captionTemplates[r.IntN(len(captionTemplates))], name, strings.Join(hs, " "))
		return
	}
	rec.tags = tags
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// duplicateTransforms are the edits applied to planted near-duplicates,
// used in turn.
var duplicateTransforms = []string{
	"resize", "reencode", "crop", "brighten", "mirror",
	"crop+resize", "mirror+reencode", "brighten+crop", "resize+reencode",
}

// planWorld decides concepts, ranks, the target task and every crawl record.
func planWorld(cfg WorldConfig, chosen []conceptEntry) *plan {
	p := &plan{}
	wnids := make([]string, len(chosen))
	for i, c := range chosen {
		wnids[i] = c.wnid
	}

	// Zipf ranks: a seeded permutation of the concepts.
	rankOf := shuffled(seeded(cfg.Seed, "ranks"), len(chosen))
	byRank := make([]string, len(chosen))
	for i, rk := range rankOf {
		byRank[rk] = wnids[i]
	}
	freq := newSampler(zipfWeights(len(chosen), cfg.ZipfExponent))
	tg := newTagger(chosen)

	// Target task: whole families in a seeded order, so its classes are
	// siblings told apart by detail (fine-grained, as CUB's birds are),
	// with its own image seeds.
	pick := targetPick(seeded(cfg.Seed, "target"), chosen, cfg.TargetClasses)
	p.target = TargetTask{
		Dir: TargetDir, Train: filepath.Join(TargetDir, "train"), Val: filepath.Join(TargetDir, "val"),
		PerTrain: cfg.TargetTrain, PerVal: cfg.TargetVal,
	}
	for _, i := range pick {
		p.target.Classes = append(p.target.Classes, wnids[i])
	}
	for _, split := range []struct {
		dir string
		n   int
	}{{p.target.Train, cfg.TargetTrain}, {p.target.Val, cfg.TargetVal}} {
		for _, c := range p.target.Classes {
			for k := 0; k < split.n; k++ {
				path := filepath.Join(split.dir, c, fmt.Sprintf("%s_%d.JPEG", c, k+1))
				p.targetImages = append(p.targetImages, imageJob{
					path: path, key: "target-image/" + path, long: cfg.TargetSize,
					scene: sceneSpec{main: c, count: 1},
				})
			}
		}
	}

	// Crawl photos, reposts after some of them.
	cr := seeded(cfg.Seed, "crawl")
	for i := 0; i < cfg.CrawlImages; i++ {
		rec := &record{kind: kindPhoto, key: fmt.Sprintf("crawl-image/%d", i)}
		rec.scene.main = byRank[freq.draw(cr)]
		rec.scene.count = 1
		if x := cr.Float64(); x < 0.08 {
			rec.scene.count = 3
		} else if x < 0.25 {
			rec.scene.count = 2
		}
		rec.shows = []string{rec.scene.main}
		if cr.Float64() < cfg.CoOccurRate {
			if o := byRank[freq.draw(cr)]; o != rec.scene.main {
				rec.scene.other = o
				rec.shows = append(rec.shows, o)
			}
		}
		tg.label(cr, cfg, rec, wnids)
		p.records = append(p.records, rec)
		if cr.Float64() < cfg.RepostRate {
			rp := &record{kind: kindRepost, scene: rec.scene, shows: rec.shows, source: rec.key}
			tg.label(cr, cfg, rp, wnids)
			p.records = append(p.records, rp)
		}
	}

	// Planted near-duplicates of target val images.
	dr := seeded(cfg.Seed, "duplicates")
	nval := len(p.target.Classes) * cfg.TargetVal
	for k, idx := range shuffled(dr, nval)[:cfg.Duplicates] {
		c := p.target.Classes[idx/cfg.TargetVal]
		path := filepath.Join(p.target.Val, c, fmt.Sprintf("%s_%d.JPEG", c, idx%cfg.TargetVal+1))
		rec := &record{
			kind: kindDuplicate, key: "duplicate/" + path, scene: sceneSpec{main: c, count: 1},
			shows: []string{c}, source: path, transform: duplicateTransforms[k%len(duplicateTransforms)],
		}
		tg.label(dr, cfg, rec, wnids)
		p.records = append(p.records, rec)
	}

	// Final order and ids.
	order := shuffled(seeded(cfg.Seed, "order"), len(p.records))
	recs := make([]*record, len(p.records))
	keyToID := map[string]string{}
	for pos, i := range order {
		recs[pos] = p.records[i]
		recs[pos].id = fmt.Sprintf("r%07d", pos+1)
		if recs[pos].kind == kindPhoto {
			keyToID[recs[pos].key] = recs[pos].id
		}
	}
	p.records = recs
	for _, r := range p.records {
		if r.kind == kindRepost {
			r.source = keyToID[r.source]
		}
		if r.kind == kindDuplicate {
			p.duplicates = append(p.duplicates, Duplicate{CrawlID: r.id, TargetPath: r.source, Transform: r.transform})
		}
	}
	sort.Slice(p.duplicates, func(i, j int) bool { return p.duplicates[i].CrawlID < p.duplicates[j].CrawlID })

	// Counts.
	images, tagged := map[string]int{}, map[string]int{}
	for _, r := range p.records {
		for _, s := range r.shows {
			images[s]++
		}
		for _, s := range r.tagged {
			tagged[s]++
		}
		p.summary.Records++
		if r.caption != "" {
			p.summary.CaptionRecords++
		}
		if r.wrong {
			p.summary.WrongTagged++
		}
		if len(r.tagged) == 0 {
			p.summary.Untagged++
		}
		if r.scene.other != "" {
			p.summary.CoOccurring++
		}
		switch r.kind {
		case kindRepost:
			p.summary.Reposts++
		case kindDuplicate:
			p.summary.Duplicates++
		}
	}
	for i, c := range chosen {
		p.concepts = append(p.concepts, Concept{
			WNID: c.wnid, Name: c.name(), Family: c.family, Lemmas: c.lemmas, Hypernyms: c.path,
			Gloss: c.gloss, Rank: rankOf[i] + 1, TagForms: tg.forms[c.wnid],
			Images: images[c.wnid], Tagged: tagged[c.wnid],
		})
	}
	return p
}

// targetPick returns the indices of n concepts, family by family in a
// seeded family order, in table order.
func targetPick(r *rand.Rand, chosen []conceptEntry, n int) []int {
	var families []string
	members := map[string][]int{}
	for i, c := range chosen {
		if _, ok := members[c.family]; !ok {
			families = append(families, c.family)
		}
		members[c.family] = append(members[c.family], i)
	}
	var pick []int
	for _, fi := range shuffled(r, len(families)) {
		for _, i := range members[families[fi]] {
			if len(pick) < n {
				pick = append(pick, i)
			}
		}
	}
	sort.Ints(pick)
	return pick
}
