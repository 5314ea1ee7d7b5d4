// Package findings measures every claim of the weakly supervised
// pretraining recipe of Mahajan et al. (ECCV 2018) in one report: pretrained
// against from scratch, label noise, data scale, capacity against data,
// vocabulary, loss, tag resampling, test-set de-duplication and tag
// concreteness.
//
// A comparison is a set of arms; an arm is a data variant (the pipeline's
// configuration), a pretraining configuration, a transfer configuration and
// a seed, run through the same functions `weaksup demo` and the noise and
// scale experiments use (pipeline.Runner, train.Pretrain, finetune.Run).
// Every run lives in a directory named by a hash of its configuration, so an
// interrupted invocation resumes and arms that coincide between comparisons
// (the p=0 noise arm is the full-data arm, the softmax arm and the natural
// sampling arm) are run once and reused across invocations.
//
// Each comparison reduces every seed's arms to one number (a difference in
// target accuracy, a fitted slope, a rank correlation); the report gives its
// mean ± sample standard deviation over seeds and whether it points the way
// the paper's does: yes or no when the mean is further from zero than the
// spread, inconclusive otherwise.
//
// Run is not safe to call twice at once on the same output directory.
package findings
