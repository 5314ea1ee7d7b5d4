// Package experiment runs weaksup's end-to-end experiments on top of the
// pipeline, pretrain and finetune packages: the demo (a generated world
// crawled over loopback, canonicalized, de-duplicated, sharded, pretrained
// on and transferred to a target task, with a report), and the label-noise
// and data-scale experiments of Mahajan et al. (ECCV 2018), sweeps whose
// points resume through package runs.
//
// It owns orchestration and reporting only; every stage's work is done by
// the package that owns it. The residual-network experiments on CIFAR are
// package resnets'.
package experiment
