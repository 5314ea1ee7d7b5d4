// Package finetune transfers a pretrained network to a labelled target task
// and measures it: full fine-tuning with a new classifier, a linear probe
// on cached frozen features, the from-scratch baseline, and evaluation
// (top-1, top-5, per-class accuracy, a confusion matrix, metrics JSON).
//
// # Datasets
//
// The target task is a dataset of package datasets: Config.Task names its
// layout (ImageNet, CUB-200-2011, Places365-standard, a generic image
// folder) and Config.Data its folder. Its train and val splits go through
// loader.SplitSource, so fine-tuning gets the training loader's decoding,
// augmentation, batching and resume.
//
// # Weights
//
// --from resolves (ResolveFrom) to a safetensors state_dict in torchvision
// naming: a run or checkpoint directory of train.Run, a fine-tuning output,
// or a file such as converted published torchvision weights. InferSpec
// reads the architecture off the tensor shapes, so no architecture flag is
// needed; NewModel builds it with a new head for the target classes.
//
// # Training
//
// Run is train.Run with a fine-tuning configuration, not a loop of its own.
// Full mode passes the ResNeXt with its new head and loaders over the
// train and val images. Linear mode first computes the global-pool
// features of both splits once (evaluation mode, center crop) and caches
// them under out/features, keyed by the weights, the architecture, the
// image size and every image's path, size and modification time; then a
// LinearProbe (a train.Model) trains on standardized features served by an
// in-memory train.Batches, the features travelling in the batch's image
// buffer. The probe is folded back into the network's head, so the saved
// model.safetensors classifies images end to end like any fine-tuned one.
// Checkpoints, --resume, metrics.jsonl and plots are train.Run's.
//
// # Evaluation
//
// Accuracy accumulates top-1/top-5 hits per class and the top-1 confusion
// matrix in O(K²) memory; Eval writes its Metrics as metrics.json and, for
// at most MaxConfusionClasses classes, confusion.png (package plot).
//
// Accuracy, LinearProbe and a running Run are not safe for concurrent use.
package finetune
