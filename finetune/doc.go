// Package finetune transfers a pretrained network to a labelled target task
// and measures it: the dataset layouts people keep on disk (ImageNet,
// CUB-200-2011, Places365-standard, a generic image folder), full
// fine-tuning with a new classifier, a linear probe on cached frozen
// features, the from-scratch baseline, and evaluation (top-1, top-5,
// per-class accuracy, a confusion matrix, metrics JSON).
//
// # Layouts
//
// Open(task, dir) returns a Dataset; its Classes are fixed at open and
// Split("train"|"val") lists (image path, class index) items, checking that
// every listed image exists. A missing or inconsistent file is a
// *LayoutError naming the file and, for listings, the line. See the
// ImageNetDataset, CUBDataset, Places365Dataset and ImageFolderDataset
// types for the exact files each reads; CUB's test split is the val split.
//
// Items are shards.FileItem values, so a split goes straight into
// shards.NewFileSource and gets the training loader's decoding,
// augmentation, batching and resume.
//
// Datasets are read-only after Open and safe for concurrent use.
package finetune
