// Package experiment runs weaksup's end-to-end experiments on top of the
// pipeline, train and finetune packages: the demo (a generated world crawled
// over loopback, canonicalized, de-duplicated, sharded, pretrained on and
// transferred to a target task, with a report), the label-noise experiment
// and the data-scale experiment of Mahajan et al. (ECCV 2018), and the
// residual-network experiments on CIFAR: depth (plain-n against ResNet-n,
// He et al. 2016), init (deep nets without batch norm: SkipInit, De & Smith
// 2020; MSRA against Xavier, He et al. 2015) and width (cardinality at a
// fixed budget, Xie et al. 2017).
//
// The residual-network experiments share one runner, CIFARRuns: a list of
// Nets trained from scratch with one Recipe on a CIFARData (a CIFAR layout,
// or GenerateStandIn's generated data in the exact CIFAR-10 format), each
// through train.Run an epoch at a time with the training and test error
// measured in between, each in its own directory with net.json (what it
// was trained with: a rerun with anything else is refused), result.json
// (its curve and fate: done, or diverged at a step) and train.Run's
// checkpoints and metrics, so every run resumes exactly. A CIFARReport
// writes <name>.json, <name>.md and plots; errorChart draws training error
// dashed and test error solid against epochs, lossChart the training loss
// against steps.
//
// It owns orchestration and reporting only; every stage's work is done by
// the package that owns it.
package experiment
