package dedup

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// MarshalBinary encodes the catalog's test sets (names, layouts, image
// paths, every view's hash and reference thumbnail) so that another
// process can rebuild the same index with UnmarshalCatalog: how the Beam
// driver hands the test-set index to its workers as a side input. Each set
// is framed as a JSON header and its hash-cache file bytes.
func (c *Catalog) MarshalBinary() ([]byte, error) {
	var out bytes.Buffer
	for _, ts := range c.Sets {
		if ts.Sigs == nil {
			return nil, fmt.Errorf("encode test set %s: it has no view signatures", ts.Spec.Name)
		}
		head, err := json.Marshal(struct {
			Spec        Spec
			Layout      string
			Root        string
			Fingerprint string
		}{ts.Spec, ts.Layout, ts.Root, ts.Fingerprint})
		if err != nil {
			return nil, fmt.Errorf("encode test set %s: %w", ts.Spec.Name, err)
		}
		var body bytes.Buffer
		ts.encodeCache(&body)
		out.Write(binary.AppendUvarint(nil, uint64(len(head))))
		out.Write(head)
		out.Write(binary.AppendUvarint(nil, uint64(body.Len())))
		out.Write(body.Bytes())
	}
	return out.Bytes(), nil
}

// UnmarshalCatalog rebuilds a catalog encoded by MarshalBinary, indexed for
// queries of radius r.
func UnmarshalCatalog(b []byte, r int) (*Catalog, error) {
	var sets []*TestSet
	next := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, fmt.Errorf("decode test-set catalog: %w: bad frame", ErrCorruptCache)
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v, nil
	}
	for len(b) > 0 {
		head, err := next()
		if err != nil {
			return nil, err
		}
		body, err := next()
		if err != nil {
			return nil, err
		}
		ts := new(TestSet)
		var h struct {
			Spec        Spec
			Layout      string
			Root        string
			Fingerprint string
		}
		if err := json.Unmarshal(head, &h); err != nil {
			return nil, fmt.Errorf("decode test-set catalog: %w: %w", ErrCorruptCache, err)
		}
		ts.Spec, ts.Layout, ts.Root, ts.Fingerprint = h.Spec, h.Layout, h.Root, h.Fingerprint
		if err := ts.decodeCache(body); err != nil {
			return nil, fmt.Errorf("decode test set %s: %w", h.Spec.Name, err)
		}
		sets = append(sets, ts)
	}
	return NewCatalog(sets, r), nil
}
