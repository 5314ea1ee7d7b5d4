package loader

import (
	"fmt"
	"image"
	"io"
	"os"

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
// shard directory) is one; FileSource (a list of image files with class
// ids, as fine-tuning datasets are) is another. Implementations must be safe for concurrent use: the
// loader's decode workers call Example from several goroutines.
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
)

// Example reads row i: its key, image (into buf) and labels.
func (s ShardSource) Example(i int, buf []byte) (Example, error) {
	key, img, labels, err := s.Read(i, buf)
	return Example{Key: key, Image: img, Labels: labels}, err
}

// FileItem is one image file and its class.
type FileItem struct {
	Path  string
	Class int32
}

// FileSource is a Source over image files on disk: the layout of fine-tuning
// datasets (ImageNet, CUB, Places folders). Each file is its own block, so the
// loader shuffles it as a full permutation.
type FileSource struct {
	items   []FileItem
	classes int
	labels  [][]int32
}

var _ Source = (*FileSource)(nil)

// NewFileSource returns a source over items whose classes lie in
// [0, numClasses).
func NewFileSource(items []FileItem, numClasses int) (*FileSource, error) {
	fs := &FileSource{items: items, classes: numClasses, labels: make([][]int32, len(items))}
	for i, it := range items {
		if it.Class < 0 || int(it.Class) >= numClasses {
			return nil, fmt.Errorf("add image %s: class %d outside [0,%d)", it.Path, it.Class, numClasses)
		}
		fs.labels[i] = []int32{it.Class}
	}
	return fs, nil
}

func (s *FileSource) Len() int        { return len(s.items) }
func (s *FileSource) NumClasses() int { return s.classes }

func (s *FileSource) Blocks() []int {
	b := make([]int, len(s.items))
	for i := range b {
		b[i] = 1
	}
	return b
}

func (s *FileSource) Labels(i int) ([]int32, error) { return s.labels[i], nil }

func (s *FileSource) Example(i int, buf []byte) (Example, error) {
	it := s.items[i]
	f, err := os.Open(it.Path)
	if err != nil {
		return Example{}, fmt.Errorf("read image %s: %w", it.Path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Example{}, fmt.Errorf("read image %s: %w", it.Path, err)
	}
	n := int(st.Size())
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(f, buf); err != nil {
		return Example{}, fmt.Errorf("read image %s: %w", it.Path, err)
	}
	return Example{Key: it.Path, Image: buf, Labels: s.labels[i]}, nil
}
