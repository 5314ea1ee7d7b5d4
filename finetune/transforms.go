package finetune

import (
	"weaksup/datasets"
	"weaksup/loader"
)

// Transforms returns the training and evaluation transforms of a task at
// size pixels: for the CIFAR layouts He et al.'s recipe (4 pixels of zero
// padding, a random crop and a flip; the image itself in evaluation) with
// the dataset's published channel statistics; otherwise the ImageNet
// recipe (a random-resized crop of at least cropScale of the area; resize
// and center crop) with ImageNet's.
func Transforms(task string, size int, cropScale float64) (trainTf, evalTf loader.Transform) {
	switch task {
	case datasets.CIFAR10:
		return loader.NewCIFARTransform(size, true, loader.CIFAR10Mean, loader.CIFAR10Std),
			loader.NewCIFARTransform(size, false, loader.CIFAR10Mean, loader.CIFAR10Std)
	case datasets.CIFAR100:
		return loader.NewCIFARTransform(size, true, loader.CIFAR100Mean, loader.CIFAR100Std),
			loader.NewCIFARTransform(size, false, loader.CIFAR100Mean, loader.CIFAR100Std)
	}
	trainTf = loader.NewTransform(size, true)
	if cropScale > 0 {
		trainTf.Scale[0] = cropScale
	}
	return trainTf, loader.NewTransform(size, false)
}

// isCIFAR reports whether a task is one of the CIFAR layouts, whose
// images are 32×32.
func isCIFAR(task string) bool { return task == datasets.CIFAR10 || task == datasets.CIFAR100 }
