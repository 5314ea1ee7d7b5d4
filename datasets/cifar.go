package datasets

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CIFAR file and folder names, as Krizhevsky distributes the binary
// versions (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz).
const (
	CIFAR10Folder   = "cifar-10-batches-bin"
	CIFAR10Meta     = "batches.meta.txt"
	CIFAR10Test     = "test_batch.bin"
	CIFAR100Folder  = "cifar-100-binary"
	CIFAR100Train   = "train.bin"
	CIFAR100Test    = "test.bin"
	CIFAR100Fine    = "fine_label_names.txt"
	CIFAR100Coarse  = "coarse_label_names.txt"
	CIFARSide       = 32                        // images are 32×32
	CIFARPixelBytes = 3 * CIFARSide * CIFARSide // 1024 red, 1024 green, 1024 blue bytes
	cifar10Batches  = 5                         // data_batch_1.bin .. data_batch_5.bin
	cifar10Classes  = 10
	cifar100Fine    = 100
	cifar100Coarse  = 20
)

// CIFAR-100 label sets (Options.CIFAR100Labels).
const (
	CIFAR100FineLabels   = "fine"   // the 100 classes (default)
	CIFAR100CoarseLabels = "coarse" // the 20 superclasses
)

// CIFAR10Batch names training batch i (1..5).
func CIFAR10Batch(i int) string { return fmt.Sprintf("data_batch_%d.bin", i) }

// CIFARDataset is CIFAR-10 or CIFAR-100 in the binary versions:
//
//   - cifar-10-batches-bin/: data_batch_1.bin .. data_batch_5.bin (train),
//     test_batch.bin (val), batches.meta.txt (the 10 class names, one a
//     line); each record is 1 label byte and 3072 pixel bytes;
//   - cifar-100-binary/: train.bin, test.bin, fine_label_names.txt,
//     coarse_label_names.txt; each record is a coarse label byte, a fine
//     label byte and 3072 pixel bytes.
//
// The pixels of a record are the 32×32 red values row by row, then the
// green, then the blue. DIR may be the batch folder or the folder that
// holds it. The test split is the val split here. Split reads the files
// whole (the CIFAR training set is 150 MB) and checks every record; Read
// returns a *PlanarRGB over the record's bytes.
type CIFARDataset struct {
	layout     string
	dir        string
	classes    []Class
	train, val []string // batch files
	recordSize int
	labelAt    int // offset of the label byte in a record
}

var _ Dataset = (*CIFARDataset)(nil)

// OpenCIFAR10 checks the files of CIFAR-10 in dir (or dir/cifar-10-batches-bin)
// and reads its class names.
func OpenCIFAR10(dir string) (*CIFARDataset, error) {
	root := dir
	if !exists(filepath.Join(root, CIFAR10Test)) && exists(filepath.Join(dir, CIFAR10Folder)) {
		root = filepath.Join(dir, CIFAR10Folder)
	}
	d := &CIFARDataset{layout: CIFAR10, dir: root, recordSize: 1 + CIFARPixelBytes}
	for i := 1; i <= cifar10Batches; i++ {
		d.train = append(d.train, filepath.Join(root, CIFAR10Batch(i)))
	}
	d.val = []string{filepath.Join(root, CIFAR10Test)}
	if err := d.checkFiles(); err != nil {
		return nil, err
	}
	var err error
	if d.classes, err = cifarNames(filepath.Join(root, CIFAR10Meta), cifar10Classes); err != nil {
		return nil, err
	}
	return d, nil
}

// OpenCIFAR100 checks the files of CIFAR-100 in dir (or dir/cifar-100-binary)
// and reads the class names of labels: CIFAR100FineLabels ("" too) or
// CIFAR100CoarseLabels.
func OpenCIFAR100(dir, labels string) (*CIFARDataset, error) {
	root := dir
	if !exists(filepath.Join(root, CIFAR100Test)) && exists(filepath.Join(dir, CIFAR100Folder)) {
		root = filepath.Join(dir, CIFAR100Folder)
	}
	d := &CIFARDataset{layout: CIFAR100, dir: root, recordSize: 2 + CIFARPixelBytes,
		train: []string{filepath.Join(root, CIFAR100Train)}, val: []string{filepath.Join(root, CIFAR100Test)}}
	if err := d.checkFiles(); err != nil {
		return nil, err
	}
	names, k := CIFAR100Fine, cifar100Fine
	switch labels {
	case "", CIFAR100FineLabels:
		d.labelAt = 1
	case CIFAR100CoarseLabels:
		names, k = CIFAR100Coarse, cifar100Coarse
	default:
		return nil, fmt.Errorf("open cifar100 %s: labels %q, want %s or %s", dir, labels, CIFAR100FineLabels, CIFAR100CoarseLabels)
	}
	var err error
	if d.classes, err = cifarNames(filepath.Join(root, names), k); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *CIFARDataset) checkFiles() error {
	for _, f := range append(append([]string(nil), d.train...), d.val...) {
		st, err := os.Stat(f)
		if err != nil {
			folder := map[string]string{CIFAR10: CIFAR10Folder, CIFAR100: CIFAR100Folder}[d.layout]
			return &LayoutError{Path: f, Msg: "missing " + d.layout + " batch file (give the " + folder + " folder or the one holding it)", Err: err}
		}
		if st.IsDir() {
			return layoutErr(f, 0, "is a folder, want a %s batch file", d.layout)
		}
	}
	return nil
}

// cifarNames reads a names file (one class a line, blank lines ignored),
// which must hold k names.
func cifarNames(path string, k int) ([]Class, error) {
	var classes []Class
	err := lines(path, func(n int, t string) error {
		classes = append(classes, Class{ID: t, Name: strings.ReplaceAll(t, "_", " ")})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(classes) != k {
		return nil, layoutErr(path, 0, "%d class names, want %d", len(classes), k)
	}
	return classes, nil
}

func (d *CIFARDataset) Layout() string   { return d.layout }
func (d *CIFARDataset) Dir() string      { return d.dir }
func (d *CIFARDataset) Classes() []Class { return d.classes }

// Split reads the batch files of a split into memory and checks every
// record's size and label.
func (d *CIFARDataset) Split(name string) (Split, error) {
	if err := checkSplit(name); err != nil {
		return nil, err
	}
	files := d.train
	if name == SplitVal {
		files = d.val
	}
	s := &CIFARSplit{recordSize: d.recordSize, labelAt: d.labelAt}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, &LayoutError{Path: f, Msg: "read " + d.layout + " batch", Err: err}
		}
		if len(data) == 0 {
			return nil, &LayoutError{Path: f, Msg: "no records", Err: ErrNoImages}
		}
		if rem := len(data) % d.recordSize; rem != 0 {
			return nil, layoutErr(f, 0, "record %d is truncated: %d bytes is not a whole number of %d-byte records",
				len(data)/d.recordSize+1, len(data), d.recordSize)
		}
		n := len(data) / d.recordSize
		for r := range n {
			rec := data[r*d.recordSize : (r+1)*d.recordSize]
			if d.layout == CIFAR100 && int(rec[0]) >= cifar100Coarse {
				return nil, layoutErr(f, 0, "record %d: coarse label %d outside [0,%d)", r+1, rec[0], cifar100Coarse)
			}
			if c := int(rec[d.labelAt]); c >= len(d.classes) {
				return nil, layoutErr(f, 0, "record %d: label %d outside [0,%d)", r+1, c, len(d.classes))
			}
		}
		st, err := os.Stat(f)
		if err != nil {
			return nil, &LayoutError{Path: f, Msg: "read " + d.layout + " batch", Err: err}
		}
		s.files = append(s.files, cifarFile{path: f, data: data, start: s.n, size: st.Size(), mtime: st.ModTime().UnixNano()})
		s.n += n
	}
	return s, nil
}

// CIFARSplit is one split of a CIFAR dataset, held in memory.
type CIFARSplit struct {
	files      []cifarFile
	n          int
	recordSize int
	labelAt    int
}

var _ Split = (*CIFARSplit)(nil)

type cifarFile struct {
	path        string
	data        []byte
	start       int // index of its first record in the split
	size, mtime int64
}

// record returns the file of image i and the record's index in it.
func (s *CIFARSplit) record(i int) (*cifarFile, int) {
	for k := len(s.files) - 1; k >= 0; k-- {
		if i >= s.files[k].start {
			return &s.files[k], i - s.files[k].start
		}
	}
	return &s.files[0], i
}

func (s *CIFARSplit) Len() int { return s.n }

func (s *CIFARSplit) Class(i int) int32 {
	f, r := s.record(i)
	return int32(f.data[r*s.recordSize+s.labelAt])
}

// Where names image i by its file and 1-based record number.
func (s *CIFARSplit) Where(i int) string {
	f, r := s.record(i)
	return fmt.Sprintf("%s record %d", f.path, r+1)
}

// Read returns image i as a *PlanarRGB over the record's bytes; buf is
// not used.
func (s *CIFARSplit) Read(i int, _ []byte) (Image, error) {
	if i < 0 || i >= s.n {
		return Image{}, fmt.Errorf("read cifar image %d of %d: out of range", i, s.n)
	}
	f, r := s.record(i)
	off := r*s.recordSize + s.recordSize - CIFARPixelBytes
	return Image{Pixels: &PlanarRGB{Pix: f.data[off : off+CIFARPixelBytes : off+CIFARPixelBytes], W: CIFARSide, H: CIFARSide}}, nil
}

// Fingerprint writes one line per batch file: path, records, size and
// modification time, and the label offset (fine or coarse).
func (s *CIFARSplit) Fingerprint(w io.Writer) error {
	for _, f := range s.files {
		if _, err := fmt.Fprintf(w, "%s\t%d\t%d\t%d\tlabel@%d\n", f.path, len(f.data)/s.recordSize, f.size, f.mtime, s.labelAt); err != nil {
			return err
		}
	}
	return nil
}
