// Package experiment runs weaksup's end-to-end experiments on top of the
// pipeline, train and finetune packages: the demo (a generated world crawled
// over loopback, canonicalized, de-duplicated, sharded, pretrained on and
// transferred to a target task, with a report), the label-noise experiment
// and the data-scale experiment of Mahajan et al. (ECCV 2018).
//
// It owns orchestration and reporting only; every stage's work is done by
// the package that owns it.
package experiment
