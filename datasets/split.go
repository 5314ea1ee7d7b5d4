package datasets

import (
	"fmt"
	"image"
	"io"
	"os"
)

// Split is the labelled images of one split of a dataset, by index. File
// layouts list image files (Files); layouts that store raw pixels (CIFAR's
// binary batches) hand out decoded images. Implementations are safe for
// concurrent use.
type Split interface {
	// Len is the number of images.
	Len() int
	// Class is the class index of image i, into Dataset.Classes.
	Class(i int) int32
	// Where names image i in messages: its file, or its file and record.
	Where(i int) string
	// Read returns image i; encoded bytes may be appended to buf[:0].
	Read(i int, buf []byte) (Image, error)
	// Fingerprint writes to w a description of every image and its class
	// that changes when an image or a label does (for files: path, class,
	// size and modification time), without reading the pixels.
	Fingerprint(w io.Writer) error
}

// Image is one image as a split stores it: the bytes of an image file
// (Encoded), or decoded pixels for layouts that store raw pixels.
type Image struct {
	Encoded []byte
	Pixels  image.Image
}

// Item is one labelled image file: its path and its class index.
type Item struct {
	Path  string
	Class int32
}

// Files is a split of image files, the form of every file layout.
type Files []Item

var _ Split = Files(nil)

func (f Files) Len() int           { return len(f) }
func (f Files) Class(i int) int32  { return f[i].Class }
func (f Files) Where(i int) string { return f[i].Path }

// Read reads image file i into buf.
func (f Files) Read(i int, buf []byte) (Image, error) {
	path := f[i].Path
	file, err := os.Open(path)
	if err != nil {
		return Image{}, fmt.Errorf("read image: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return Image{}, fmt.Errorf("read image %s: %w", path, err)
	}
	n := int(st.Size())
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(file, buf); err != nil {
		return Image{}, fmt.Errorf("read image %s: %w", path, err)
	}
	return Image{Encoded: buf}, nil
}

// Fingerprint writes one line per image: path, class, size and
// modification time.
func (f Files) Fingerprint(w io.Writer) error {
	for _, it := range f {
		st, err := os.Stat(it.Path)
		if err != nil {
			return fmt.Errorf("fingerprint images: %w", err)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\n", it.Path, it.Class, st.Size(), st.ModTime().UnixNano())
	}
	return nil
}
