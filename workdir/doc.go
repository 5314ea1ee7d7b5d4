// Package workdir names the layout of a pipeline working directory, the one
// place that spells it:
//
//	<workdir>/store             the working store (package store)
//	<workdir>/stages/NAME.json  one record per stage (package pipeline)
//	<workdir>/ingest-stats/     one JSON file per ingest run
//	<workdir>/vocab.tsv         the vocabulary (canonicalize)
//	<workdir>/hashtags.tsv      every distinct hashtag and what it maps to
//	<workdir>/testsets/         cached perceptual hashes of the test sets (dedup)
//	<workdir>/reports/          the dedup report
//	<workdir>/shards/           Arrow training shards and manifest.json
//
// Every stage writes into the working directory and the pipeline imports
// the stages, so the layout lives in this leaf package rather than in
// pipeline: a stage that imported pipeline would make an import cycle.
//
// A Dir is a plain path; its methods only join names and touch no files.
package workdir
