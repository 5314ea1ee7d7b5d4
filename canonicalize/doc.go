// Package canonicalize turns the hashtags of image records into labels of a
// fixed vocabulary, as Mahajan et al. (ECCV 2018) did: hashtags are
// canonicalized through WordNet noun synsets, and the most frequent synsets
// (17,517 in the paper) become the label set.
//
// # Normal form
//
// Normalize writes a hashtag in its normal form: Unicode NFKC, full case
// folding, with '#', separators (space, '_', '-' and other dashes, '.'),
// apostrophes and invisible format characters removed. The same function
// writes WordNet lemmas in "joined form" ("Ursus_arctos" → "ursusarctos"), so
// a hashtag names a lemma when the normal forms are equal. A normal form must
// be MinRunes to MaxRunes long. (Finding hashtags in captions is package
// hashtag's.)
//
// # Mapping (Mapper)
//
// A normal form is looked up among the joined forms of WordNet's noun lemmas
// ("newyork" → New York). When it is none, it is reduced the way WordNet's
// morphy reduces nouns: the noun exception list ("geese" → goose), then the
// detachment rules, which act on the last word of a joined collocation
// ("brownbears" → brown bear, "buses" → bus), then the exception list on the
// last word ("snowgeese" → snow goose). WordNet is ASCII, so a form with
// accents that finds nothing is tried without them ("cafés" → cafe). A form
// that is no noun is reported as
// not_noun when it is a WordNet verb, adjective or adverb (or an inflection of
// one) and as unknown otherwise.
//
// The lemma's senses are taken in wordnet.Lemma.Ranked order: senses WordNet
// ranks by tag counts first, then the untagged ones in the order the
// lexicographers wrote them. (WordNet 3.0 lists untagged senses in descending
// offset order, which says nothing about frequency; Ranked is why "bruin"
// means the brown bear rather than the bear of fables.) The sense policy then
// keeps the first sense (First, the default), every sense (All), or none when
// there are several (DropAmbiguous, reason ambiguous).
//
// Two lemmas can join alike ("3-d" and "3d"): the form belongs to the lemma
// written without separators, then to the one with more tagged senses, then
// more senses, then the smaller name. WordNet 3.0 has 1,141 losers, 230 of
// them with different senses.
//
// # Canonical tags (Concept)
//
// A synset's canonical tag is its first lemma in joined form: every hashtag
// of the brown bear synset n02132136 ("#brownbear", "#BrownBears", "#bruin",
// "#brown_bear", "#ursusarctos") becomes the tag "brownbear". When several
// synsets start with lemmas that join alike, the bare tag goes to the synset
// that hashtag itself maps to under First (else the lowest offset) and the
// others are written tag_wnid ("bear_n09845191"); normal forms never contain
// '_', so such tags never collide with a hashtag.
//
// # Vocabulary and labels
//
// A Counter counts, per concept, the images whose hashtags map to it; TopK
// keeps the k most frequent (ties by tag) as a Vocabulary with ids 0..k-1.
// SynsetVocabulary builds one from fixed synsets (ImageNet1kWNIDs: the
// paper's ImageNet-1k-matched set, 1,000 synsets and 1,820 hashtag forms),
// and LoadVocabulary reads vocab.tsv back so label ids stay stable across
// runs. Vocabulary.Hash identifies the label space (ids, tags and wnids).
//
// A Labeler labels an image: each hashtag's lemma form is looked up among the
// vocabulary's member hashtags (so "#crane" can mean either ImageNet crane,
// resolved by the policy), and otherwise the policy's concepts are kept when
// they are in the vocabulary.
//
// Run is the pipeline stage: it counts, builds or loads the vocabulary,
// writes <workdir>/vocab.tsv and <workdir>/hashtags.tsv (every distinct
// hashtag with its image count and tags or reason), stores each record's
// labels and drops records without an in-vocabulary tag (reason
// "no_vocab_tag").
//
// Mapper, Labeler, Vocabulary (once built) and Normalize are safe for
// concurrent use; Counter is not. Label noise, a training-time transform of
// the labels this package assigns, is the loader's (package loader).
package canonicalize
