// Package atomicfile writes files so that a reader, or a process that
// crashes and restarts, sees either the old file or the complete new one,
// never a torn one: the data goes to a temporary file in the same directory,
// is fsynced, and is renamed over the target.
//
// Every weaksup file that a rerun or a resume trusts — stage records,
// manifests, vocabularies, test-set hash caches, safetensors weights,
// reports — is written through it.
package atomicfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write creates path's directory if needed and writes what write produces to
// path atomically. On any error the target is left as it was and the
// temporary file is removed.
func Write(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	// CreateTemp makes the file private (0600); these are ordinary outputs.
	werr := f.Chmod(0o644)
	if werr == nil {
		werr = write(f)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}
