package shards

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"weaksup/storage"
)

// Verify checks a shard directory against its manifest: every listed file's
// size and SHA-256, its Arrow schema and row count, and every row (a JPEG
// image, label ids inside the vocabulary, one tag per label, keys unique
// across the directory). It writes one line per shard to w (nil discards)
// and returns every problem found, each naming the shard and, for row
// problems, the row. dir may be a gs:// or s3:// URL (see VerifyIn).
func Verify(dir string, w io.Writer) error {
	if storage.IsURL(dir) {
		return verifyURL(dir, w)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		return err
	}
	return verify(m, w, func(file string) (string, string, func(), error) {
		p := filepath.Join(dir, file)
		return p, p, func() {}, nil
	})
}

// localShard gives a shard file's location (for messages), a local file
// with its bytes, and what to call when done with that file.
type localShard func(file string) (loc, local string, release func(), err error)

func verify(m *Manifest, w io.Writer, open localShard) error {
	if w == nil {
		w = io.Discard
	}
	var errs []error
	keys := map[string]string{}
	names := make([]string, 0, len(m.Splits))
	for name := range m.Splits {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, info := range m.Splits[name].Shards {
			err := verifyShard(open, info, m.NumClasses, keys)
			if err != nil {
				errs = append(errs, err)
				fmt.Fprintf(w, "BAD %s: %v\n", info.File, err)
				continue
			}
			fmt.Fprintf(w, "ok  %s %d rows %d bytes\n", info.File, info.Rows, info.Bytes)
		}
	}
	return errors.Join(errs...)
}

func verifyShard(open localShard, info ShardInfo, numClasses int, keys map[string]string) error {
	loc, local, release, err := open(info.File)
	if err != nil {
		return fmt.Errorf("verify shard %s: %w", info.File, err)
	}
	defer release()
	f, err := os.Open(local)
	if err != nil {
		return fmt.Errorf("verify shard %s: %w", info.File, err)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return fmt.Errorf("verify shard %s: %w", info.File, err)
	}
	if n != info.Bytes {
		return fmt.Errorf("verify shard %s: %w: %d bytes, manifest says %d (truncated or replaced)", info.File, ErrCorrupt, n, info.Bytes)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != info.SHA256 {
		return fmt.Errorf("verify shard %s: %w: SHA-256 %s, manifest says %s", info.File, ErrCorrupt, sum, info.SHA256)
	}
	s, err := openMapped(loc, local, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	if s.Rows() != info.Rows {
		return fmt.Errorf("verify shard %s: %w: %d rows, manifest says %d", info.File, ErrCorrupt, s.Rows(), info.Rows)
	}
	for i := 0; i < s.Rows(); i++ {
		r, err := s.Row(i)
		if err != nil {
			return err
		}
		if err := checkRow(&r, numClasses); err != nil {
			return fmt.Errorf("verify shard %s row %d (key %q): %w: %w", info.File, i, r.Key, ErrCorrupt, err)
		}
		if prev, dup := keys[r.Key]; dup {
			return fmt.Errorf("verify shard %s row %d: %w: key %q also in %s", info.File, i, ErrCorrupt, r.Key, prev)
		}
		keys[r.Key] = fmt.Sprintf("%s row %d", info.File, i)
	}
	return nil
}

func checkRow(r *Row, numClasses int) error {
	switch {
	case r.Key == "":
		return errors.New("empty key")
	case len(r.Image) < 4 || r.Image[0] != 0xff || r.Image[1] != 0xd8:
		return fmt.Errorf("image of %d bytes is not a JPEG", len(r.Image))
	case len(r.Labels) == 0:
		return errors.New("no labels")
	case len(r.Tags) != len(r.Labels):
		return fmt.Errorf("%d tags for %d labels", len(r.Tags), len(r.Labels))
	}
	for _, t := range r.Labels {
		if t < 0 || int(t) >= numClasses {
			return fmt.Errorf("label id %d outside the vocabulary of %d tags", t, numClasses)
		}
	}
	return nil
}
