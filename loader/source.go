package loader

import (
	"fmt"
	"image"

	"weaksup/datasets"
	"weaksup/shards"
)

// Example is one item a Source hands the loader: its image, as encoded
// bytes (JPEG, PNG, GIF, BMP, TIFF or WebP) or as decoded pixels for
// sources that hold images in memory (CIFAR's binary batches), and its
// label ids.
type Example struct {
	Key    string
	Image  []byte      // encoded; ignored when Pixels is set
	Pixels image.Image // decoded, or nil
	Labels []int32
}

// Source is random-access input for a Loader. ShardSource (one split of a
// shard directory) is one; SplitSource (one split of a dataset, such as
// fine-tuning reads) is another. Implementations must be safe for
// concurrent use: the loader's decode workers call Example from several
// goroutines.
type Source interface {
	// Len is the number of items.
	Len() int
	// NumClasses is the size of the label space; label ids lie in [0, NumClasses).
	NumClasses() int
	// Blocks are the sizes of consecutive runs of items that are cheap to
	// read together (one per shard); they sum to Len. The loader shuffles
	// block order and then mixes items through a shuffle buffer, so a
	// source of single-item blocks is shuffled as a full permutation.
	Blocks() []int
	// Labels returns the label ids of item i without reading its image.
	// The loader does not modify or keep the slice.
	Labels(i int) ([]int32, error)
	// Example reads item i. Image may be appended to buf[:0] to reuse its
	// memory; the loader keeps neither Image nor Pixels after the call
	// that transforms it.
	Example(i int, buf []byte) (Example, error)
}

// Prefetcher is implemented by sources that can start reading items
// before they are asked for: a ShardSource over gs:// or s3:// shards
// fetches the images of a batch's items as soon as the batch is planned,
// many requests at a time, so that the decode workers seldom wait on the
// network. Prefetch returns at once and must not keep items.
type Prefetcher interface {
	Prefetch(items []int)
}

// TagCounter is implemented by sources that know how many items carry each
// label without scanning them (ShardSource reads it from the manifest).
type TagCounter interface {
	TagCounts() []int64
}

// ShardSource is the Source over one split of a shard directory: the
// shards are its blocks, and the manifest's tag counts its TagCounts.
type ShardSource struct{ *shards.ShardSet }

var (
	_ Source     = ShardSource{}
	_ TagCounter = ShardSource{}
	_ Prefetcher = ShardSource{}
)

// Example reads row i: its key, image (into buf) and labels.
func (s ShardSource) Example(i int, buf []byte) (Example, error) {
	key, img, labels, err := s.Read(i, buf)
	return Example{Key: key, Image: img, Labels: labels}, err
}

// SplitSource is a Source over one split of a dataset (package datasets):
// image files of ImageNet, CUB, Places365 or image folders, or a layout's
// in-memory pixels. Each image is its own block, so the loader shuffles the
// split as a full permutation; an image's one label is its class.
type SplitSource struct {
	split   datasets.Split
	classes int
	labels  [][]int32
}

var _ Source = (*SplitSource)(nil)

// NewSplitSource returns a source over split, whose classes must lie in
// [0, numClasses).
func NewSplitSource(split datasets.Split, numClasses int) (*SplitSource, error) {
	s := &SplitSource{split: split, classes: numClasses, labels: make([][]int32, split.Len())}
	for i := range s.labels {
		c := split.Class(i)
		if c < 0 || int(c) >= numClasses {
			return nil, fmt.Errorf("add image %s: class %d outside [0,%d)", split.Where(i), c, numClasses)
		}
		s.labels[i] = []int32{c}
	}
	return s, nil
}

func (s *SplitSource) Len() int        { return len(s.labels) }
func (s *SplitSource) NumClasses() int { return s.classes }

func (s *SplitSource) Blocks() []int {
	b := make([]int, len(s.labels))
	for i := range b {
		b[i] = 1
	}
	return b
}

func (s *SplitSource) Labels(i int) ([]int32, error) { return s.labels[i], nil }

// Where names image i: its file, or its file and record.
func (s *SplitSource) Where(i int) string { return s.split.Where(i) }

// Example reads image i; its key is where it lies.
func (s *SplitSource) Example(i int, buf []byte) (Example, error) {
	img, err := s.split.Read(i, buf)
	if err != nil {
		return Example{}, err
	}
	return Example{Key: s.split.Where(i), Image: img.Encoded, Pixels: img.Pixels, Labels: s.labels[i]}, nil
}
