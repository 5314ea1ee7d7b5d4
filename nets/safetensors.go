package nets

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"sort"
	"strings"

	"weaksup/atomicfile"
	"weaksup/torch"
)

// The safetensors format (https://github.com/huggingface/safetensors): an
// 8-byte little-endian header length N, N bytes of JSON mapping each tensor
// name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the
// data that follows) plus an optional "__metadata__" string map, then the
// raw little-endian tensor data, every byte of it belonging to one tensor.

// maxSafetensorsHeader bounds the JSON header, as the reference
// implementation does.
const maxSafetensorsHeader = 100 << 20

// ErrSafetensors is wrapped by every error about a malformed file.
var ErrSafetensors = errors.New("malformed safetensors")

var safetensorsDTypes = map[string]torch.DType{
	"F32": torch.Float32, "F64": torch.Float64, "F16": torch.Float16, "BF16": torch.BFloat16,
	"I64": torch.Int64, "I32": torch.Int32, "I16": torch.Int16, "I8": torch.Int8,
	"U8": torch.Uint8, "BOOL": torch.Bool,
}

// SafetensorsDType returns the safetensors name of a torch dtype.
func SafetensorsDType(d torch.DType) (string, error) {
	for k, v := range safetensorsDTypes {
		if v == d {
			return k, nil
		}
	}
	return "", fmt.Errorf("no safetensors dtype for %v", d)
}

// SafetensorsInfo describes one tensor of a file.
type SafetensorsInfo struct {
	DType  string   `json:"dtype"`
	Shape  []int64  `json:"shape"`
	Offset [2]int64 `json:"data_offsets"`
}

// Safetensors is a parsed safetensors header over a ReaderAt; tensor data
// is read on demand.
type Safetensors struct {
	Metadata map[string]string
	Tensors  map[string]SafetensorsInfo
	r        io.ReaderAt
	base     int64 // file offset of the data
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSafetensors, fmt.Sprintf(format, args...))
}

// ParseSafetensors reads and checks the header of a safetensors file of
// the given size: known dtypes, offsets that match the shapes and cover the
// data exactly.
func ParseSafetensors(r io.ReaderAt, size int64) (*Safetensors, error) {
	var lenBuf [8]byte
	if size < 8 {
		return nil, malformed("%d bytes, shorter than the header length", size)
	}
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("read header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > maxSafetensorsHeader || n > uint64(size-8) {
		return nil, malformed("header length %d for a file of %d bytes", n, size)
	}
	header := make([]byte, n)
	if _, err := r.ReadAt(header, 8); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, malformed("header does not start with '{'")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, malformed("header JSON: %v", err)
	}
	f := &Safetensors{Tensors: make(map[string]SafetensorsInfo, len(raw)), r: r, base: 8 + int64(n)}
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, malformed("__metadata__ is not a string map: %v", err)
			}
			continue
		}
		var info SafetensorsInfo
		if err := json.Unmarshal(msg, &info); err != nil {
			return nil, malformed("tensor %q: %v", name, err)
		}
		dt, ok := safetensorsDTypes[info.DType]
		if !ok {
			return nil, malformed("tensor %q: unsupported dtype %q", name, info.DType)
		}
		want, ok := byteSize(info.Shape, dt.Size())
		if !ok {
			return nil, malformed("tensor %q: bad shape %v", name, info.Shape)
		}
		if info.Offset[0] < 0 || info.Offset[1] < info.Offset[0] || info.Offset[1]-info.Offset[0] != want {
			return nil, malformed("tensor %q: offsets %v for %d bytes of %s%v", name, info.Offset, want, info.DType, info.Shape)
		}
		f.Tensors[name] = info
	}
	// Every data byte belongs to exactly one tensor.
	infos := make([]SafetensorsInfo, 0, len(f.Tensors))
	for _, info := range f.Tensors {
		infos = append(infos, info)
	}
	sort.Slice(infos, func(i, j int) bool {
		if infos[i].Offset[0] != infos[j].Offset[0] {
			return infos[i].Offset[0] < infos[j].Offset[0]
		}
		return infos[i].Offset[1] < infos[j].Offset[1] // empty tensors first
	})
	var at int64
	for _, info := range infos {
		if info.Offset[0] != at {
			return nil, malformed("data offsets leave a gap or overlap at byte %d", at)
		}
		at = info.Offset[1]
	}
	if at != size-f.base {
		return nil, malformed("tensors cover %d data bytes, the file has %d", at, size-f.base)
	}
	return f, nil
}

// byteSize returns the bytes of a tensor of the shape, false on overflow or
// a negative dim.
func byteSize(shape []int64, elem int) (int64, bool) {
	n := uint64(elem)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		n = lo
	}
	return int64(n), true
}

// Names returns the tensor names, sorted.
func (f *Safetensors) Names() []string {
	out := make([]string, 0, len(f.Tensors))
	for k := range f.Tensors {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ReadBytes returns the raw data of a tensor.
func (f *Safetensors) ReadBytes(name string) ([]byte, error) {
	info, ok := f.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("read tensor %q: not in file", name)
	}
	buf := make([]byte, info.Offset[1]-info.Offset[0])
	if _, err := f.r.ReadAt(buf, f.base+info.Offset[0]); err != nil {
		return nil, fmt.Errorf("read tensor %q: %w", name, err)
	}
	return buf, nil
}

// Tensor reads a tensor into a new CPU torch tensor that belongs to no
// scope (the caller closes it).
func (f *Safetensors) Tensor(name string) (*torch.Tensor, error) {
	data, err := f.ReadBytes(name)
	if err != nil {
		return nil, err
	}
	info := f.Tensors[name]
	t := torch.Keep(torch.FromData(safetensorsDTypes[info.DType], data, info.Shape...))
	if err := t.Err(); err != nil {
		return nil, fmt.Errorf("read tensor %q: %w", name, err)
	}
	return t, nil
}

// SafetensorsFile is a Safetensors over an open file.
type SafetensorsFile struct {
	*Safetensors
	file *os.File
}

// OpenSafetensors opens and parses a safetensors file.
func OpenSafetensors(path string) (*SafetensorsFile, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, err
	}
	f, err := ParseSafetensors(file, fi.Size())
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &SafetensorsFile{Safetensors: f, file: file}, nil
}

// Close closes the file. It is idempotent.
func (f *SafetensorsFile) Close() error {
	if f.file == nil {
		return nil
	}
	err := f.file.Close()
	f.file = nil
	return err
}

// SafetensorsEntry is one tensor to write. Data holds its bytes, or is nil
// and Fetch returns them when the writer reaches the tensor (so a large
// model is copied out of libtorch one tensor at a time).
type SafetensorsEntry struct {
	Name  string
	DType string
	Shape []int64
	Data  []byte
	Fetch func() ([]byte, error)
}

// WriteSafetensors writes entries in the safetensors format, larger
// elements first and then by name (as the reference writer orders them),
// with the header padded to 8 bytes.
func WriteSafetensors(w io.Writer, entries []SafetensorsEntry, metadata map[string]string) error {
	es := append([]SafetensorsEntry(nil), entries...)
	sort.SliceStable(es, func(i, j int) bool {
		si, sj := safetensorsDTypes[es[i].DType].Size(), safetensorsDTypes[es[j].DType].Size()
		if si != sj {
			return si > sj
		}
		return es[i].Name < es[j].Name
	})
	header := make(map[string]any, len(es)+1)
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var at int64
	for i, e := range es {
		dt, ok := safetensorsDTypes[e.DType]
		if !ok {
			return fmt.Errorf("write tensor %q: unsupported dtype %q", e.Name, e.DType)
		}
		if e.Name == "__metadata__" || e.Name == "" {
			return fmt.Errorf("write tensor %q: reserved name", e.Name)
		}
		if _, dup := header[e.Name]; dup {
			return fmt.Errorf("write tensor %q: duplicate name", e.Name)
		}
		n, ok := byteSize(e.Shape, dt.Size())
		if !ok {
			return fmt.Errorf("write tensor %q: bad shape %v", e.Name, e.Shape)
		}
		if e.Data != nil && int64(len(e.Data)) != n {
			return fmt.Errorf("write tensor %q: %d bytes for %s%v, want %d", e.Name, len(e.Data), e.DType, e.Shape, n)
		}
		shape := e.Shape
		if shape == nil {
			shape = []int64{}
		}
		header[e.Name] = SafetensorsInfo{DType: e.DType, Shape: shape, Offset: [2]int64{at, at + n}}
		at += n
		es[i] = e
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("encode safetensors header: %w", err)
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hj)))
	bw.Write(lenBuf[:])
	bw.Write(hj)
	for _, e := range es {
		data := e.Data
		if data == nil && e.Fetch != nil {
			if data, err = e.Fetch(); err != nil {
				return fmt.Errorf("write tensor %q: %w", e.Name, err)
			}
		}
		info := header[e.Name].(SafetensorsInfo)
		if int64(len(data)) != info.Offset[1]-info.Offset[0] {
			return fmt.Errorf("write tensor %q: got %d bytes, want %d", e.Name, len(data), info.Offset[1]-info.Offset[0])
		}
		if _, err := bw.Write(data); err != nil {
			return fmt.Errorf("write tensor %q: %w", e.Name, err)
		}
	}
	return bw.Flush()
}

// SaveTensors writes named torch tensors (any device or layout) to a
// safetensors file atomically: a temporary file in the same directory,
// fsync, rename.
func SaveTensors(path string, params []Param, metadata map[string]string) error {
	entries := make([]SafetensorsEntry, 0, len(params))
	for _, p := range params {
		dt, err := p.Tensor.DType()
		if err != nil {
			return fmt.Errorf("save %s: tensor %q: %w", path, p.Name, err)
		}
		name, err := SafetensorsDType(dt)
		if err != nil {
			return fmt.Errorf("save %s: tensor %q: %w", path, p.Name, err)
		}
		t := p.Tensor
		entries = append(entries, SafetensorsEntry{Name: p.Name, DType: name, Shape: t.Shape(), Fetch: t.Bytes})
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { return WriteSafetensors(w, entries, metadata) }); err != nil {
		return fmt.Errorf("save tensors: %w", err)
	}
	return nil
}

// LoadTensors reads every tensor of a safetensors file into CPU tensors
// that belong to no scope (the caller closes them), sorted by name.
func LoadTensors(path string) ([]Param, map[string]string, error) {
	f, err := OpenSafetensors(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var out []Param
	for _, name := range f.Names() {
		t, err := f.Tensor(name)
		if err != nil {
			for _, p := range out {
				p.Tensor.Close()
			}
			return nil, nil, fmt.Errorf("load %s: %w", path, err)
		}
		out = append(out, Param{Name: name, Tensor: t})
	}
	return out, f.Metadata, nil
}

// Save writes the model's state_dict (parameters and buffers, torchvision
// names, row-major float32) to a safetensors file atomically, so that
// torchvision's load_state_dict(strict=True) accepts it.
func (m *ResNeXt) Save(path string, metadata map[string]string) error {
	return SaveTensors(path, m.params, metadata)
}

// LoadOptions select what Load takes from a file.
type LoadOptions struct {
	// IgnoreHead skips fc.weight and fc.bias (present or not): for
	// fine-tuning a pretrained backbone with a new head.
	IgnoreHead bool
}

// Load copies a state_dict in torchvision naming (as Save writes it, or as
// converted from torchvision weights) into the model. Every other name must
// match both ways, with equal shapes; dtypes are converted.
func (m *ResNeXt) Load(path string, o LoadOptions) error {
	f, err := OpenSafetensors(path)
	if err != nil {
		return fmt.Errorf("load weights: %w", err)
	}
	defer f.Close()
	isHead := func(n string) bool { return o.IgnoreHead && (n == "fc.weight" || n == "fc.bias") }
	want := map[string]bool{}
	var missing, unexpected []string
	for _, p := range m.params {
		if isHead(p.Name) {
			continue
		}
		want[p.Name] = true
		if _, ok := f.Tensors[p.Name]; !ok {
			missing = append(missing, p.Name)
		}
	}
	for _, n := range f.Names() {
		if !want[n] && !isHead(n) {
			unexpected = append(unexpected, n)
		}
	}
	if len(missing) > 0 || len(unexpected) > 0 {
		return fmt.Errorf("load weights %s into %s: missing %s; unexpected %s",
			path, m.opts.Arch.Name, listNames(missing), listNames(unexpected))
	}
	s := torch.NewScope()
	defer s.Close()
	return torch.NoGrad(func() error {
		for _, p := range m.params {
			if isHead(p.Name) {
				continue
			}
			info := f.Tensors[p.Name]
			if got, wantShape := fmt.Sprint(info.Shape), fmt.Sprint(p.Tensor.Shape()); got != wantShape {
				return fmt.Errorf("load weights %s: %s has shape %s, the model %s", path, p.Name, got, wantShape)
			}
			data, err := f.ReadBytes(p.Name)
			if err != nil {
				return fmt.Errorf("load weights %s: %w", path, err)
			}
			src := torch.FromData(safetensorsDTypes[info.DType], data, info.Shape...)
			if err := p.Tensor.CopyFrom(src); err != nil {
				return fmt.Errorf("load weights %s: %s: %w", path, p.Name, err)
			}
			src.Close()
		}
		return nil
	})
}

func listNames(ns []string) string {
	if len(ns) == 0 {
		return "none"
	}
	if len(ns) > 5 {
		return fmt.Sprintf("%s and %d more", strings.Join(ns[:5], ", "), len(ns)-5)
	}
	return strings.Join(ns, ", ")
}
