package resnets

import (
	"fmt"

	"weaksup/datasets"
	"weaksup/loader"
)

// Data is a CIFAR-format dataset opened for the residual-network
// experiments: its splits, in memory, and the channel statistics of its
// training images.
type Data struct {
	Task        string // datasets.CIFAR10 or datasets.CIFAR100
	Dir         string
	Classes     int
	Train, Test datasets.Split
	Mean, Std   [3]float32
	// About says what the data is, for reports ("CIFAR-10 (…)", "the
	// generated stand-in …"); Short names it in plot titles.
	About, Short string
}

// statsImages is how many training images the channel statistics are
// computed over.
const statsImages = 10000

// OpenData opens the CIFAR layout task in dir, reads both splits and
// computes the per-channel mean and standard deviation of (up to 10,000 of)
// its training images, which normalize every image.
func OpenData(task, dir string, opt datasets.Options) (*Data, error) {
	if task != datasets.CIFAR10 && task != datasets.CIFAR100 {
		return nil, fmt.Errorf("open cifar data: task %q, want %s or %s", task, datasets.CIFAR10, datasets.CIFAR100)
	}
	ds, err := datasets.Open(task, dir, opt)
	if err != nil {
		return nil, err
	}
	d := &Data{Task: task, Short: task, Dir: ds.Dir(), Classes: len(ds.Classes())}
	if d.Train, err = ds.Split(datasets.SplitTrain); err != nil {
		return nil, err
	}
	if d.Test, err = ds.Split(datasets.SplitVal); err != nil {
		return nil, err
	}
	src, err := loader.NewSplitSource(d.Train, d.Classes)
	if err != nil {
		return nil, err
	}
	if d.Mean, d.Std, err = loader.ChannelStats(src, statsImages); err != nil {
		return nil, fmt.Errorf("open cifar data %s: %w", d.Dir, err)
	}
	d.About = fmt.Sprintf("%s in %s: %d training and %d test images of %d classes", task, d.Dir, d.Train.Len(), d.Test.Len(), d.Classes)
	return d, nil
}

// transform returns the training (augmenting) or evaluation transform.
func (d *Data) transform(train bool) *loader.Transform {
	tf := loader.NewCIFARTransform(datasets.CIFARSide, train, d.Mean, d.Std)
	return &tf
}
