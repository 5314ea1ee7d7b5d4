package findings

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"weaksup/datasets"
)

// carveValidation writes, under dir, an image-folder dataset of the target
// task's train images only: per class, a fraction of the images (at least
// one when the class has two or more) become its val split, the rest its
// train split, chosen by seed. The files are symbolic links. Learning
// rates are chosen on it, so the target task's own val split is touched
// once, by the final run of each arm.
func carveValidation(task, data string, fraction float64, seed uint64, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return nil
	}
	ds, err := datasets.Open(task, data, datasets.Options{})
	if err != nil {
		return fmt.Errorf("carve validation split: %w", err)
	}
	split, err := ds.Split(datasets.SplitTrain)
	if err != nil {
		return fmt.Errorf("carve validation split: %w", err)
	}
	files, ok := split.(datasets.Files)
	if !ok {
		return fmt.Errorf("carve validation split of %s: layout %s does not store image files", data, task)
	}
	byClass := map[int32][]string{}
	for _, it := range files {
		byClass[it.Class] = append(byClass[it.Class], it.Path)
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("carve validation split: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	for c := range ds.Classes() {
		paths := byClass[int32(c)]
		rng.Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
		nVal := int(fraction * float64(len(paths)))
		if nVal == 0 && len(paths) >= 2 {
			nVal = 1
		}
		for i, p := range paths {
			sub := datasets.SplitTrain
			if i < nVal {
				sub = datasets.SplitVal
			}
			// Zero-padded class indices keep the image-folder class order
			// that of the task.
			d := filepath.Join(tmp, sub, fmt.Sprintf("c%05d", c))
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("carve validation split: %w", err)
			}
			abs, err := filepath.Abs(p)
			if err != nil {
				return fmt.Errorf("carve validation split: %w", err)
			}
			if err := os.Symlink(abs, filepath.Join(d, fmt.Sprintf("%05d%s", i, filepath.Ext(p)))); err != nil {
				return fmt.Errorf("carve validation split: %w", err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "done"), nil, 0o644); err != nil {
		return fmt.Errorf("carve validation split: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("carve validation split: %w", err)
	}
	return os.Rename(tmp, dir)
}
