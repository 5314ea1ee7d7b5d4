// Package resnets holds the residual-network experiments on CIFAR that the
// networks of package nets rest on: depth (plain-n against ResNet-n, He et
// al. 2016), init (deep nets without batch norm: SkipInit, De & Smith
// 2020; MSRA against Xavier, He et al. 2015) and width (cardinality at a
// fixed budget, Xie et al. 2017).
//
// They share one runner, Runs: a list of Nets trained from scratch with
// one Recipe on a Data (a CIFAR layout, or GenerateStandIn's generated data
// in the exact CIFAR-10 format), each through train.Run an epoch at a time
// with the training and test error measured in between, each in its own
// run directory (package runs: the configuration it was trained with — a
// rerun with anything else is refused —, its result — its curve and fate:
// done, or diverged at a step — and train.Run's checkpoints and metrics),
// so every run resumes exactly. A Report writes <name>.json, <name>.md and
// plots; errorChart draws training error dashed and test error solid
// against epochs, lossChart the training loss against steps.
package resnets
