package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"weaksup/canonicalize"
	"weaksup/hashtag"
	"weaksup/wordnet"
)

// TagsCommand is the `weaksup tags` command: a look at how hashtags
// canonicalize through WordNet.
type TagsCommand struct{}

const tagsHelp = `Show how hashtags canonicalize through WordNet.

Subcommands:
  canon    (the default) for each hashtag: its normal form, the WordNet noun
           lemma it reaches and how (lemma, exception list, suffix rule,
           compound), the synsets the sense policy keeps with wnid, lemmas and
           gloss, and the canonical tag; or why it is dropped
  extract  the hashtags of free-text captions, then canon on them
  synset   a synset (by wnid) or every noun synset of a lemma: canonical tag,
           lemmas, gloss, hypernyms and hyponyms

WordNet is the embedded WordNet 3.0 unless --wordnet-dir names a database
directory (e.g. /usr/share/wordnet); both give the same answers.

Examples:
  weaksup tags '#BrownBears' '#bruin' '#ursusarctos'
  weaksup tags canon --sense-policy all --json '#crane'
  weaksup tags extract 'Dawn at the river #BrownBear #wildlife #nofilter'
  weaksup tags synset n02132136 'new york'`

type tagsFlags struct {
	wordnetDir string
	policy     string
	json       bool
}

// Run dispatches to canon, extract or synset.
func (c *TagsCommand) Run(ctx context.Context, env Env, args []string) error {
	sub := "canon"
	if len(args) > 0 {
		switch args[0] {
		case "canon", "extract", "synset":
			sub, args = args[0], args[1:]
		}
	}
	fs := env.flagSet("tags", "tags [canon|extract|synset] [flags] ARG...", tagsHelp)
	var f tagsFlags
	fs.StringVar(&f.wordnetDir, "wordnet-dir", "", "WordNet database directory; empty: the embedded WordNet 3.0")
	fs.StringVar(&f.policy, "sense-policy", "first", "senses an ambiguous hashtag stands for: first, all or drop-ambiguous")
	fs.BoolVar(&f.json, "json", false, "print JSON instead of text")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	m, err := canonicalize.Config{WordNetDir: f.wordnetDir, SensePolicy: f.policy}.Mapper()
	if err != nil {
		return err
	}
	switch sub {
	case "extract":
		var tags []string
		for _, caption := range fs.Args() {
			tags = append(tags, hashtag.Extract(caption)...)
		}
		if !f.json {
			fmt.Fprintf(env.Stdout, "hashtags: %s\n\n", strings.Join(tags, " "))
		}
		return printCanon(env.Stdout, m, tags, f.json)
	case "synset":
		return printSynsets(env.Stdout, m, fs.Args(), f.json)
	}
	return printCanon(env.Stdout, m, fs.Args(), f.json)
}

type conceptJSON struct {
	Tag     string   `json:"tag"`
	WNID    string   `json:"wnid"`
	Lemmas  []string `json:"lemmas"`
	Gloss   string   `json:"gloss"`
	LexFile string   `json:"lex_file,omitempty"`
}

func toConceptJSON(c *canonicalize.Concept) conceptJSON {
	return conceptJSON{Tag: c.Tag, WNID: c.WNID(), Lemmas: c.Synset.Lemmas(), Gloss: c.Synset.Gloss, LexFile: c.Synset.LexFileName()}
}

type canonJSON struct {
	Hashtag  string        `json:"hashtag"`
	Normal   string        `json:"normal"`
	Lemma    string        `json:"lemma,omitempty"`
	Via      string        `json:"via,omitempty"`
	Concepts []conceptJSON `json:"concepts"`
	Senses   []conceptJSON `json:"senses,omitempty"`
	Reason   string        `json:"reason,omitempty"`
}

var reasonText = map[canonicalize.Reason]string{
	canonicalize.ReasonEmpty:     "nothing left after normalization",
	canonicalize.ReasonTooShort:  fmt.Sprintf("shorter than %d characters", canonicalize.MinRunes),
	canonicalize.ReasonTooLong:   fmt.Sprintf("longer than %d characters", canonicalize.MaxRunes),
	canonicalize.ReasonUnknown:   "not a WordNet word",
	canonicalize.ReasonNotNoun:   "a WordNet verb, adjective or adverb, not a noun",
	canonicalize.ReasonAmbiguous: "several noun senses (--sense-policy drop-ambiguous)",
}

func printCanon(w io.Writer, m *canonicalize.Mapper, hashtags []string, asJSON bool) error {
	out := make([]canonJSON, 0, len(hashtags))
	for _, h := range hashtags {
		mp := m.Map(h)
		r := canonJSON{Hashtag: h, Normal: mp.Normal, Via: mp.Via, Reason: string(mp.Reason), Concepts: []conceptJSON{}}
		if mp.Lemma != nil {
			r.Lemma = strings.ReplaceAll(mp.Lemma.Name, "_", " ")
		}
		for _, c := range mp.Concepts {
			r.Concepts = append(r.Concepts, toConceptJSON(c))
		}
		for _, c := range mp.Senses {
			r.Senses = append(r.Senses, toConceptJSON(c))
		}
		out = append(out, r)
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for i, r := range out {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s\n  normal form  %s\n", r.Hashtag, r.Normal)
		if r.Lemma != "" {
			fmt.Fprintf(w, "  lemma        %s (%s, %d noun sense%s)\n", r.Lemma, viaText(r.Via), len(r.Senses), plural(len(r.Senses)))
		}
		for _, c := range r.Concepts {
			fmt.Fprintf(w, "  tag          %s  %s  [%s]\n               %s\n", c.Tag, c.WNID, strings.Join(c.Lemmas, ", "), c.Gloss)
		}
		if r.Reason != "" {
			fmt.Fprintf(w, "  dropped      %s: %s\n", r.Reason, reasonText[canonicalize.Reason(r.Reason)])
		}
		for k, c := range r.Senses {
			if kept(r.Concepts, c.WNID) {
				continue
			}
			fmt.Fprintf(w, "  sense %-6d %s  %s  [%s]  %s\n", k+1, c.Tag, c.WNID, strings.Join(c.Lemmas, ", "), c.Gloss)
		}
	}
	return nil
}

func viaText(via string) string {
	switch via {
	case canonicalize.ViaException:
		return "noun exception list"
	case canonicalize.ViaSuffix:
		return "suffix rule"
	case canonicalize.ViaCompound:
		return "exception list on the last word"
	}
	return "exact"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func kept(cs []conceptJSON, wnid string) bool {
	for _, c := range cs {
		if c.WNID == wnid {
			return true
		}
	}
	return false
}

type synsetJSON struct {
	conceptJSON
	Hypernyms []conceptRef `json:"hypernyms"`
	Hyponyms  []conceptRef `json:"hyponyms"`
}

type conceptRef struct {
	Tag  string `json:"tag"`
	WNID string `json:"wnid"`
}

func printSynsets(w io.Writer, m *canonicalize.Mapper, args []string, asJSON bool) error {
	var out []synsetJSON
	for _, a := range args {
		var synsets []*wordnet.Synset
		if s, err := m.DB().Synset(a); err == nil {
			synsets = append(synsets, s)
		} else if l := m.DB().Lemma(a); l != nil {
			synsets = l.Ranked()
		} else {
			return fmt.Errorf("%q is neither a noun synset wnid nor a WordNet noun lemma", a)
		}
		for _, s := range synsets {
			r := synsetJSON{conceptJSON: toConceptJSON(m.Concept(s)), Hypernyms: []conceptRef{}, Hyponyms: []conceptRef{}}
			for _, h := range s.Hypernyms() {
				r.Hypernyms = append(r.Hypernyms, conceptRef{m.Concept(h).Tag, h.WNID()})
			}
			for _, h := range s.Hyponyms() {
				r.Hyponyms = append(r.Hyponyms, conceptRef{m.Concept(h).Tag, h.WNID()})
			}
			out = append(out, r)
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for i, r := range out {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s  %s  (%s)\n  lemmas     %s\n  gloss      %s\n", r.WNID, r.Tag, r.LexFile, strings.Join(r.Lemmas, ", "), r.Gloss)
		fmt.Fprintf(w, "  hypernyms  %s\n  hyponyms   %s\n", refs(r.Hypernyms, 12), refs(r.Hyponyms, 12))
	}
	return nil
}

func refs(rs []conceptRef, max int) string {
	if len(rs) == 0 {
		return "-"
	}
	var parts []string
	for i, r := range rs {
		if i == max {
			parts = append(parts, fmt.Sprintf("... (%d in all)", len(rs)))
			break
		}
		parts = append(parts, r.Tag+" "+r.WNID)
	}
	return strings.Join(parts, ", ")
}
