// Package hashtag finds the hashtags of a free-text caption.
//
// Extract returns them in their original spelling, without '#', in order of
// first appearance. It does no normalization and no mapping: writing a
// hashtag in normal form and mapping it to a WordNet synset is
// canonicalize's work; ingest uses Extract to take the hashtags of records
// that come with captions instead of tags.
//
// Extract is safe for concurrent use.
package hashtag
