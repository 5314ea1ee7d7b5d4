package canonicalize

import (
	"context"
	"fmt"
	"io"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/store"
	"weaksup/workdir"
)

// benchHashtags returns n hashtags drawn like the corpus test's: WordNet
// lemmas spelt many ways (CamelCase, '_', '-', upper case, '#'), a fifth of
// them noise that WordNet does not know as nouns.
func benchHashtags(b *testing.B, m *Mapper, n int) []string {
	c := genCorpus(m.DB(), m, n, 5000, 7)
	var out []string
	for _, tags := range c.tags {
		out = append(out, tags...)
	}
	return out[:n]
}

func BenchmarkMap(b *testing.B) {
	m := embeddedMapper(b, First)
	mixed := benchHashtags(b, m, 100_000)
	var normal []string
	for _, h := range mixed {
		if mp := m.Map(h); mp.Form != "" {
			normal = append(normal, mp.Form)
		}
	}
	var unicode []string
	for i := 0; len(unicode) < len(mixed); i++ {
		unicode = append(unicode, "＃ＢｒｏｗｎＢｅａｒ", "#Straße", "#café", "#東京", "#Ｄｏｇｓ", "#new\u2013york")
	}
	for _, in := range []struct {
		name string
		tags []string
	}{{"input=hashtags", mixed}, {"input=normal-forms", normal}, {"input=unicode", unicode}} {
		// One op maps the whole batch, so that even -benchtime 2x measures
		// hundreds of thousands of hashtags.
		b.Run(fmt.Sprintf("%s/batch=%d", in.name, len(in.tags)), func(b *testing.B) {
			b.ReportAllocs()
			mapped := 0
			cpu0 := testkit.CPUTime()
			for b.Loop() {
				for _, h := range in.tags {
					if m.Map(h).OK() {
						mapped++
					}
				}
			}
			testkit.ReportRate(b, cpu0, b.N*len(in.tags), "hashtags")
		})
	}
}

func BenchmarkLabel(b *testing.B) {
	m := embeddedMapper(b, First)
	c := genCorpus(m.DB(), m, 50_000, 5000, 3)
	counter := NewCounter(m)
	for _, tags := range c.tags {
		counter.Add(tags)
	}
	v, err := counter.TopK(DefaultVocabSize, 1)
	if err != nil {
		b.Fatal(err)
	}
	lab := NewLabeler(m, v)
	b.Run(fmt.Sprintf("vocab=top/batch=%d", len(c.tags)), func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := testkit.CPUTime()
		for b.Loop() {
			for _, tags := range c.tags {
				lab.Label(tags)
			}
		}
		testkit.ReportRate(b, cpu0, b.N*len(c.tags), "records")
	})
}

func BenchmarkNewMapper(b *testing.B) {
	db := embeddedMapper(b, First).DB()
	for _, p := range []Policy{First, All} {
		b.Run("policy="+p.String(), func(b *testing.B) {
			cpu0 := testkit.CPUTime()
			for b.Loop() {
				NewMapper(db, p)
			}
			b.ReportMetric(float64((testkit.CPUTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

func BenchmarkNormalize(b *testing.B) {
	for _, in := range []struct{ name, tag string }{
		{"input=ascii-normal", "brownbear"},
		{"input=ascii-camel", "#BrownBears"},
		{"input=fullwidth", "＃ＢｒｏｗｎＢｅａｒｓ"},
	} {
		b.Run(in.name+"/batch=10000", func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := testkit.CPUTime()
			for b.Loop() {
				for range 10000 {
					Normalize(in.tag)
				}
			}
			testkit.ReportRate(b, cpu0, b.N*10000, "hashtags")
		})
	}
}

// BenchmarkRun is the whole stage over a store: two passes over the records,
// labels and drop flags written back.
func BenchmarkRun(b *testing.B) {
	m := embeddedMapper(b, First)
	const n = 20_000
	c := genCorpus(m.DB(), m, n, 5000, 5)
	wd := workdir.Dir(b.TempDir())
	st, err := store.Open(wd.Store())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	batch := st.NewBatch()
	for i, tags := range c.tags {
		r := &store.Record{ID: fmt.Sprintf("r%07d", i), RawTags: tags, Outcome: store.OutcomeOK}
		if err := batch.PutRecord(r, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := batch.Flush(); err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
		for b.Loop() {
			if _, err := Run(context.Background(), st, wd, DefaultConfig(), io.Discard); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
	})
}
