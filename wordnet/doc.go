// Package wordnet reads the Princeton WordNet database format and answers the
// questions hashtag canonicalization asks of it: which noun synsets a lemma
// names, in sense order; what a synset is called (its wnid, lemmas and gloss);
// which synsets are above and below it; and the pieces of morphy, WordNet's
// reduction of inflected forms: the exception lists and the detachment rules
// (ExceptionList, Detach).
//
// A DB comes from one of two places that give the same answers:
//
//   - Open(dir) parses index.noun, data.noun and noun.exc from a WordNet
//     database directory such as /usr/share/wordnet (Debian's wordnet-base),
//     plus the lemma lists and exception files of the other parts of speech
//     (index.verb, index.adj, index.adv, verb.exc, adj.exc, adv.exc) when they
//     are there, so that a word can be recognised as "not a noun".
//   - Embedded() decodes a compact copy of the WordNet 3.0 noun database that
//     is compiled into the binary (wn30.bin.zst, made from wordnet-base by
//     `go generate`; see LICENSE-WordNet.txt), so nothing needs WordNet
//     installed.
//
// Only nouns carry synsets. Of the pointer types in data.noun only hypernyms
// (@, @i) and hyponyms (~, ~i) are kept.
//
// Sense order is WordNet's: the first TaggedSenses senses of a lemma are
// ordered by how often they were tagged in the semantic concordances; the
// rest carry no frequency information (WordNet 3.0 lists them in descending
// synset offset order). Lemma.Ranked exposes an order that keeps the tagged
// senses first and lists the untagged ones in ascending offset order: by
// lexicographer file, then in the order they were written within a file.
//
// A DB is immutable once built and safe for concurrent use. The package does
// not read the verb, adjective or adverb data files: those parts of speech are
// known only by their lemmas and exception lists.
package wordnet
