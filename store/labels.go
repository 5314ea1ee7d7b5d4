package store

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Labels are the in-vocabulary canonical tags of a record and their
// vocabulary ids, written by the canonicalize stage.
type Labels struct {
	Tags []string `json:"tags"`
	IDs  []int32  `json:"ids"`
}

func decodeLabels(k, v []byte) (Labels, error) {
	p, err := unversion(k, v)
	if err != nil {
		return Labels{}, err
	}
	var l Labels
	if err := json.Unmarshal(p, &l); err != nil {
		return Labels{}, fmt.Errorf("decode labels %q: %w", k, err)
	}
	return l, nil
}

// PutLabels stores the labels of a record.
func (s *Store) PutLabels(id string, l Labels) error {
	b := s.NewBatch()
	if err := b.PutLabels(id, l); err != nil {
		b.Cancel()
		return err
	}
	return b.Flush()
}

// Labels returns the labels of a record.
func (s *Store) Labels(id string) (Labels, error) {
	k := key(tabLabels, id)
	v, err := s.get(k)
	if err != nil {
		return Labels{}, err
	}
	return decodeLabels(k, v)
}

// ScanLabels calls fn for every labelled record in key order.
func (s *Store) ScanLabels(fn func(id string, l Labels) error) error {
	return s.scan(tabLabels, true, func(k, v []byte) error {
		l, err := decodeLabels(k, v)
		if err != nil {
			return err
		}
		return fn(string(k[len(tabLabels):]), l)
	})
}

// ClearLabels removes every label, so a rerun of canonicalize starts clean.
func (s *Store) ClearLabels() error { return s.dropPrefix(tabLabels) }

func dropKey(stage, id string) ([]byte, error) {
	if stage == "" || strings.Contains(stage, "/") {
		return nil, fmt.Errorf("set drop on %s: invalid stage name %q", id, stage)
	}
	return key(tabDrop, stage+"/"+id), nil
}

// dropByIDKey is the reverse index of drop flags, so Drop(id) is a prefix
// lookup: e/<id>\x00<stage>.
func dropByIDKey(stage, id string) []byte { return key(tabDropByID, id+"\x00"+stage) }

// SetDrop flags a record as removed from the training set by a stage, with a
// reason. Nothing is deleted.
func (s *Store) SetDrop(id, stage, reason string) error {
	b := s.NewBatch()
	if err := b.SetDrop(id, stage, reason); err != nil {
		b.Cancel()
		return err
	}
	return b.Flush()
}

// Drop reports whether any stage dropped the record, and which and why.
func (s *Store) Drop(id string) (stage, reason string, dropped bool, err error) {
	err = s.scan(tabDropByID+id+"\x00", true, func(k, v []byte) error {
		if dropped {
			return nil
		}
		p, err := unversion(k, v)
		if err != nil {
			return err
		}
		stage = string(k[len(tabDropByID)+len(id)+1:])
		reason, dropped = string(p), true
		return nil
	})
	return stage, reason, dropped, err
}

// Dropped returns the set of dropped record ids (of every stage) with the
// first stage:reason that dropped each.
func (s *Store) Dropped() (map[string]string, error) {
	m := make(map[string]string)
	err := s.ScanDrops(func(id, stage, reason string) error {
		if _, ok := m[id]; !ok {
			m[id] = stage + ":" + reason
		}
		return nil
	})
	return m, err
}

// ClearDrops removes every drop flag a stage set, so a rerun starts clean.
func (s *Store) ClearDrops(stage string) error {
	if stage == "" || strings.Contains(stage, "/") {
		return fmt.Errorf("clear drops: invalid stage name %q", stage)
	}
	var ids []string
	err := s.scan(tabDrop+stage+"/", false, func(k, _ []byte) error {
		ids = append(ids, string(k[len(tabDrop)+len(stage)+1:]))
		return nil
	})
	if err != nil {
		return fmt.Errorf("clear drops of %s: %w", stage, err)
	}
	wb := s.db.NewWriteBatch()
	for _, id := range ids {
		if err := wb.Delete(key(tabDrop, stage+"/"+id)); err != nil {
			wb.Cancel()
			return fmt.Errorf("clear drops of %s: %w", stage, err)
		}
		if err := wb.Delete(dropByIDKey(stage, id)); err != nil {
			wb.Cancel()
			return fmt.Errorf("clear drops of %s: %w", stage, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("clear drops of %s: %w", stage, err)
	}
	return nil
}

// ScanDrops calls fn for every drop flag, ordered by stage then id.
func (s *Store) ScanDrops(fn func(id, stage, reason string) error) error {
	return s.scan(tabDrop, true, func(k, v []byte) error {
		p, err := unversion(k, v)
		if err != nil {
			return err
		}
		rest := string(k[len(tabDrop):])
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return fmt.Errorf("read drop flag %q: malformed key", k)
		}
		return fn(rest[i+1:], rest[:i], string(p))
	})
}
