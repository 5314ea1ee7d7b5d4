package datasets

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"weaksup/atomicfile"
)

// CIFARRecord is one image of a CIFAR batch file: its label (the fine
// label for CIFAR-100), its coarse label (CIFAR-100 only) and its pixels
// in record order (1024 red, 1024 green, 1024 blue bytes).
type CIFARRecord struct {
	Label, Coarse uint8
	Pixels        [CIFARPixelBytes]byte
}

// WriteCIFAR10 writes records in CIFAR-10's binary layout into
// dir/cifar-10-batches-bin and returns that folder: the training records
// spread in order over data_batch_1.bin .. data_batch_5.bin (the first
// batches take one more when they do not divide evenly), the test records
// in test_batch.bin, the class names in batches.meta.txt. Each file is
// written atomically.
func WriteCIFAR10(dir string, classes []string, train, test []CIFARRecord) (string, error) {
	if len(classes) != cifar10Classes {
		return "", fmt.Errorf("write cifar10: %d class names, want %d", len(classes), cifar10Classes)
	}
	root := filepath.Join(dir, CIFAR10Folder)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("write cifar10: %w", err)
	}
	start := 0
	for i := range cifar10Batches {
		n := len(train) / cifar10Batches
		if i < len(train)%cifar10Batches {
			n++
		}
		if err := writeCIFARBatch(filepath.Join(root, CIFAR10Batch(i+1)), train[start:start+n], false); err != nil {
			return "", err
		}
		start += n
	}
	if err := writeCIFARBatch(filepath.Join(root, CIFAR10Test), test, false); err != nil {
		return "", err
	}
	return root, writeNames(filepath.Join(root, CIFAR10Meta), classes)
}

func writeCIFARBatch(path string, recs []CIFARRecord, cifar100 bool) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		for _, r := range recs {
			if cifar100 {
				bw.WriteByte(r.Coarse)
			}
			bw.WriteByte(r.Label)
			if _, err := bw.Write(r.Pixels[:]); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("write cifar batch %s: %w", path, err)
	}
	return nil
}

// writeNames writes one name a line, as the distributions' names files
// have them (with the trailing blank line of batches.meta.txt).
func writeNames(path string, names []string) error {
	if err := atomicfile.WriteFile(path, []byte(strings.Join(names, "\n")+"\n\n")); err != nil {
		return fmt.Errorf("write class names %s: %w", path, err)
	}
	return nil
}
