package store

import (
	"encoding/json"
	"fmt"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
)

// Batch groups writes for throughput. Writes become visible and durable
// together with Flush; a Batch is not safe for concurrent use.
type Batch struct {
	wb *badger.WriteBatch
}

// NewBatch starts a batch of writes.
func (s *Store) NewBatch() *Batch { return &Batch{wb: s.db.NewWriteBatch()} }

// PutRecord adds a record (and its image, when non-nil) to the batch.
func (b *Batch) PutRecord(r *Record, image []byte) error {
	if strings.ContainsRune(r.ID, 0) {
		return fmt.Errorf("put record %q: id contains a NUL byte", r.ID)
	}
	v, err := encodeRecord(r)
	if err != nil {
		return err
	}
	if image != nil {
		img := make([]byte, len(image))
		copy(img, image)
		if err := b.wb.Set(key(tabImage, r.ID), img); err != nil {
			return fmt.Errorf("put image %s: %w", r.ID, err)
		}
	}
	if r.OK() {
		if err := b.wb.Set(key(tabHash, r.ID), encodeHash(r)); err != nil {
			return fmt.Errorf("put hash %s: %w", r.ID, err)
		}
	} else if err := b.wb.Delete(key(tabHash, r.ID)); err != nil {
		return fmt.Errorf("delete hash %s: %w", r.ID, err)
	}
	// The record goes last: a large batch commits in several transactions,
	// and a crash between them must not leave an ok record without its
	// image or hash (a rerun refetches a record that is missing).
	if err := b.wb.Set(key(tabRecord, r.ID), v); err != nil {
		return fmt.Errorf("put record %s: %w", r.ID, err)
	}
	return nil
}

// PutLabels adds a record's labels to the batch.
func (b *Batch) PutLabels(id string, l Labels) error {
	p, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encode labels %s: %w", id, err)
	}
	if err := b.wb.Set(key(tabLabels, id), versioned(p)); err != nil {
		return fmt.Errorf("put labels %s: %w", id, err)
	}
	return nil
}

// SetDrop adds a drop flag to the batch.
func (b *Batch) SetDrop(id, stage, reason string) error {
	k, err := dropKey(stage, id)
	if err != nil {
		return err
	}
	v := versioned([]byte(reason))
	if err := b.wb.Set(k, v); err != nil {
		return fmt.Errorf("set drop %s: %w", id, err)
	}
	if err := b.wb.Set(dropByIDKey(stage, id), v); err != nil {
		return fmt.Errorf("set drop %s: %w", id, err)
	}
	return nil
}

// Flush writes the batch and waits until it is committed.
func (b *Batch) Flush() error {
	if err := b.wb.Flush(); err != nil {
		return fmt.Errorf("flush store batch: %w", err)
	}
	return nil
}

// Cancel discards a batch that will not be flushed.
func (b *Batch) Cancel() { b.wb.Cancel() }
