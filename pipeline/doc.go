// Package pipeline runs the stages that turn crawled records into training
// shards — ingest, canonicalize, dedup, shards — in order, over one working
// directory (its layout is package workdir's):
//
//	<workdir>/store             the working store (package store)
//	<workdir>/stages/NAME.json  one record per stage: config, input fingerprint,
//	                            counts, timings, status
//
// Each stage package owns its name, its config and its flags; Config.Stages
// puts them in order, the one place that order is written down.
//
// A stage that finished with the same config and the same inputs is skipped;
// Force reruns it. A stage's input fingerprint covers its external inputs
// (input files, test-set folders) and the records of the stages before it, so
// rerunning an earlier stage makes every later one stale.
//
// A Runner is not safe for concurrent use, and two runners must not share a
// working directory at once: the store holds a directory lock.
package pipeline
