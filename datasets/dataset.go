package datasets

import (
	"errors"
	"fmt"
	"strings"
)

// Layout names: what finetune's --task takes, and a test set's :LAYOUT
// (ListerFor lists those whose images are files).
const (
	ImageNet    = "imagenet"
	CUB         = "cub"
	Places365   = "places365"
	ImageFolder = "imagefolder"
	CIFAR10     = "cifar10"
	CIFAR100    = "cifar100"
)

// Layouts lists the layout names in the order help texts show them.
var Layouts = []string{ImageNet, CUB, Places365, ImageFolder, CIFAR10, CIFAR100}

// Split names.
const (
	SplitTrain = "train"
	SplitVal   = "val"
)

var (
	// ErrUnknownLayout is returned by Open for a layout name it does not
	// know.
	ErrUnknownLayout = errors.New("unknown dataset layout")
	// ErrUnknownSplit is returned by Dataset.Split for a split other than
	// train or val.
	ErrUnknownSplit = errors.New("unknown split")
	// ErrNoImages is wrapped when a folder or listing holds no images.
	ErrNoImages = errors.New("no images found")
)

// Class is one class of a dataset: ID is what the layout calls it on disk
// (a WordNet id, a CUB class number, a Places category path, a folder
// name), Name is a readable name.
type Class struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Dataset is a labelled dataset as it lies on disk. Classes are fixed when
// the dataset is opened; Split reads the listing of one split, checks that
// every image it names exists, and returns its images in a stable order.
type Dataset interface {
	Layout() string
	Dir() string
	Classes() []Class
	Split(name string) (Split, error)
}

var (
	_ Dataset = (*ImageNetDataset)(nil)
	_ Dataset = (*CUBDataset)(nil)
	_ Dataset = (*Places365Dataset)(nil)
	_ Dataset = (*ImageFolderDataset)(nil)
	_ Dataset = (*CIFARDataset)(nil)
)

// Options tune how layouts are read.
type Options struct {
	// ImageNetClassOrder is the class-order file that the devkit's
	// ILSVRC2012_validation_ground_truth.txt numbers its labels by: one wnid
	// per line, line i is label i. Empty looks for synsets.txt in the
	// dataset directory and in ILSVRC2012_devkit_t12/data/; "folders" uses
	// the sorted train folder names (only right for ground-truth files
	// written in that order).
	ImageNetClassOrder string `json:"imagenet_class_order,omitempty"`
	// CIFAR100Labels picks CIFAR-100's label set: CIFAR100FineLabels (the
	// 100 classes; empty means fine) or CIFAR100CoarseLabels (the 20
	// superclasses).
	CIFAR100Labels string `json:"cifar100_labels,omitempty"`
}

// Open opens the dataset of the named layout in dir.
func Open(layout, dir string, opt Options) (Dataset, error) {
	switch layout {
	case ImageNet:
		return OpenImageNet(dir, opt)
	case CUB:
		return OpenCUB(dir)
	case Places365:
		return OpenPlaces365(dir)
	case ImageFolder:
		return OpenImageFolder(dir)
	case CIFAR10:
		return OpenCIFAR10(dir)
	case CIFAR100:
		return OpenCIFAR100(dir, opt.CIFAR100Labels)
	}
	return nil, fmt.Errorf("open dataset: %w %q (want %s)", ErrUnknownLayout, layout, strings.Join(Layouts, ", "))
}

// LayoutError is a problem with one file (and optionally one line) of a
// dataset layout.
type LayoutError struct {
	Path string
	Line int // 1-based; 0 when the problem is the file as a whole
	Msg  string
	Err  error
}

func (e *LayoutError) Error() string {
	s := e.Path
	if e.Line > 0 {
		s = fmt.Sprintf("%s:%d", s, e.Line)
	}
	s += ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *LayoutError) Unwrap() error { return e.Err }

func layoutErr(path string, line int, format string, args ...any) error {
	return &LayoutError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func checkSplit(name string) error {
	if name != SplitTrain && name != SplitVal {
		return fmt.Errorf("read split %q: %w (want %s or %s)", name, ErrUnknownSplit, SplitTrain, SplitVal)
	}
	return nil
}
