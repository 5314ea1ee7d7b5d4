package dedup

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"weaksup/atomicfile"
)

// A test set's hashes are cached in <workdir>/testsets/NAME-FINGERPRINT.phash:
//
//	"WSPHASH" 0x00, format version byte,
//	uvarint image count, then per image: uvarint length, path, the hash of
//	each of the len(Views) views (uint64 LE), the reference thumbnail
//	(RefLen bytes),
//	uvarint unreadable count, then per image: uvarint length, path, uvarint length, error,
//	CRC-32 (IEEE, LE) of everything before it.

const (
	cacheMagic   = "WSPHASH\x00"
	cacheVersion = 2
	maxCacheStr  = 1 << 16
)

// ErrCorruptCache is returned for a cache file that is not one this version wrote.
var ErrCorruptCache = errors.New("corrupt test-set hash cache")

func (ts *TestSet) writeCacheFile(path string) error {
	var buf bytes.Buffer
	ts.encodeCache(&buf)
	if err := atomicfile.WriteFile(path, buf.Bytes()); err != nil {
		return fmt.Errorf("write test-set cache: %w", err)
	}
	return nil
}

func (ts *TestSet) encodeCache(w *bytes.Buffer) {
	var b [binary.MaxVarintLen64]byte
	str := func(s string) {
		w.Write(b[:binary.PutUvarint(b[:], uint64(len(s)))])
		w.WriteString(s)
	}
	w.WriteString(cacheMagic)
	w.WriteByte(cacheVersion)
	w.Write(b[:binary.PutUvarint(b[:], uint64(len(ts.Images)))])
	for i, p := range ts.Images {
		str(p)
		for _, h := range ts.Sigs[i].Hashes {
			w.Write(binary.LittleEndian.AppendUint64(nil, h))
		}
		w.Write(ts.Sigs[i].Ref)
	}
	w.Write(b[:binary.PutUvarint(b[:], uint64(len(ts.Unreadable)))])
	for _, u := range ts.Unreadable {
		str(u.Path)
		str(u.Err)
	}
	w.Write(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(w.Bytes())))
}

func (ts *TestSet) readCacheFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := ts.decodeCache(data); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// decodeCache fills the images, hashes and unreadable images of ts from a
// cache file's bytes.
func (ts *TestSet) decodeCache(data []byte) error {
	if len(data) < len(cacheMagic)+1+4 || string(data[:len(cacheMagic)]) != cacheMagic {
		return fmt.Errorf("%w: bad magic", ErrCorruptCache)
	}
	if v := data[len(cacheMagic)]; v != cacheVersion {
		return fmt.Errorf("%w: format version %d, want %d", ErrCorruptCache, v, cacheVersion)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return fmt.Errorf("%w: checksum mismatch", ErrCorruptCache)
	}
	r := bufio.NewReader(bytes.NewReader(body[len(cacheMagic)+1:]))
	count := func() (int, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil || n > uint64(len(body)) {
			return 0, fmt.Errorf("%w: bad count", ErrCorruptCache)
		}
		return int(n), nil
	}
	str := func() (string, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil || n > maxCacheStr {
			return "", fmt.Errorf("%w: bad string length", ErrCorruptCache)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return "", fmt.Errorf("%w: truncated string", ErrCorruptCache)
		}
		return string(b), nil
	}
	n, err := count()
	if err != nil {
		return err
	}
	images, hashes, mirrors := make([]string, 0, n), make([]uint64, 0, n), make([]uint64, 0, n)
	sigs := make([]Signature, 0, n)
	raw := make([]byte, 8*len(Views)+RefLen)
	for range n {
		p, err := str()
		if err != nil {
			return err
		}
		if _, err := io.ReadFull(r, raw); err != nil {
			return fmt.Errorf("%w: truncated signature", ErrCorruptCache)
		}
		sig := Signature{Hashes: make([]uint64, len(Views)), Ref: bytes.Clone(raw[8*len(Views):])}
		for v := range sig.Hashes {
			sig.Hashes[v] = binary.LittleEndian.Uint64(raw[8*v:])
		}
		images = append(images, p)
		hashes = append(hashes, sig.Hashes[0])
		mirrors = append(mirrors, sig.Hashes[1])
		sigs = append(sigs, sig)
	}
	n, err = count()
	if err != nil {
		return err
	}
	var unreadable []Unreadable
	for range n {
		p, err := str()
		if err != nil {
			return err
		}
		e, err := str()
		if err != nil {
			return err
		}
		unreadable = append(unreadable, Unreadable{Path: p, Err: e})
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return fmt.Errorf("%w: trailing bytes", ErrCorruptCache)
	}
	ts.Images, ts.Hashes, ts.Mirrors, ts.Sigs, ts.Unreadable = images, hashes, mirrors, sigs, unreadable
	return nil
}
