package nets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"weaksup/torch"
	"weaksup/torch/torchtest"
)

func sampleEntries() []SafetensorsEntry {
	f32 := make([]byte, 2*3*4)
	for i := range f32 {
		f32[i] = byte(i)
	}
	return []SafetensorsEntry{
		{Name: "b.weight", DType: "F32", Shape: []int64{2, 3}, Data: f32},
		{Name: "a.count", DType: "I64", Shape: nil, Data: []byte{7, 0, 0, 0, 0, 0, 0, 0}},
		{Name: "c.mask", DType: "U8", Shape: []int64{3}, Fetch: func() ([]byte, error) { return []byte{1, 0, 1}, nil }},
		{Name: "d.empty", DType: "F32", Shape: []int64{0, 5}, Data: []byte{}},
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	meta := map[string]string{"arch": "resnext_tiny", "step": "12"}
	if err := WriteSafetensors(&buf, sampleEntries(), meta); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if n := binary.LittleEndian.Uint64(data); n%8 != 0 {
		t.Errorf("header length %d is not padded to 8", n)
	}
	f, err := ParseSafetensors(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["arch"] != "resnext_tiny" || f.Metadata["step"] != "12" {
		t.Errorf("metadata: got %v", f.Metadata)
	}
	if got := f.Names(); len(got) != 4 || got[0] != "a.count" || got[3] != "d.empty" {
		t.Errorf("names: got %v", got)
	}
	for _, e := range sampleEntries() {
		want := e.Data
		if want == nil {
			want, _ = e.Fetch()
		}
		got, err := f.ReadBytes(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", e.Name, got, want)
		}
		if info := f.Tensors[e.Name]; info.DType != e.DType || len(info.Shape) != len(e.Shape) {
			t.Errorf("%s: info %+v", e.Name, info)
		}
	}
	// 8-byte elements come first, so they are aligned in the data.
	if f.Tensors["a.count"].Offset[0] != 0 {
		t.Errorf("I64 tensor at offset %d, want 0", f.Tensors["a.count"].Offset[0])
	}
}

func TestSafetensorsWriteErrors(t *testing.T) {
	tests := []struct {
		name string
		e    []SafetensorsEntry
	}{
		{"unknown dtype", []SafetensorsEntry{{Name: "x", DType: "F8", Shape: []int64{1}, Data: []byte{0}}}},
		{"short data", []SafetensorsEntry{{Name: "x", DType: "F32", Shape: []int64{2}, Data: []byte{0, 0, 0, 0}}}},
		{"duplicate", []SafetensorsEntry{{Name: "x", DType: "U8", Shape: []int64{1}, Data: []byte{0}}, {Name: "x", DType: "U8", Shape: []int64{1}, Data: []byte{0}}}},
		{"reserved", []SafetensorsEntry{{Name: "__metadata__", DType: "U8", Shape: []int64{1}, Data: []byte{0}}}},
		{"negative dim", []SafetensorsEntry{{Name: "x", DType: "U8", Shape: []int64{-1}}}},
	}
	for _, tc := range tests {
		if err := WriteSafetensors(&bytes.Buffer{}, tc.e, nil); err == nil {
			t.Errorf("%s: got no error", tc.name)
		}
	}
}

func withHeader(header string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), data...)
}

func TestSafetensorsRejectsMalformed(t *testing.T) {
	tests := []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"short length", []byte{1, 0, 0}},
		{"length past end", binary.LittleEndian.AppendUint64(nil, 100)},
		{"not an object", withHeader(`[1,2]`, nil)},
		{"bad json", withHeader(`{"x":`, nil)},
		{"unknown dtype", withHeader(`{"x":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}`, []byte{0})},
		{"size mismatch", withHeader(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, []byte{0, 0, 0, 0})},
		{"gap", withHeader(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, []byte{0, 0})},
		{"overlap", withHeader(`{"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"y":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`, []byte{0, 0, 0})},
		{"trailing data", withHeader(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{0, 9})},
		{"data missing", withHeader(`{"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, []byte{0})},
		{"negative dim", withHeader(`{"x":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}`, nil)},
		{"huge shape", withHeader(`{"x":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil)},
		{"bad metadata", withHeader(`{"__metadata__":{"a":1}}`, nil)},
	}
	for _, tc := range tests {
		_, err := ParseSafetensors(bytes.NewReader(tc.file), int64(len(tc.file)))
		if err == nil {
			t.Errorf("%s: got no error", tc.name)
		} else if !errors.Is(err, ErrSafetensors) {
			t.Errorf("%s: got %v, want an ErrSafetensors", tc.name, err)
		}
	}
}

func FuzzParseSafetensors(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, sampleEntries(), map[string]string{"k": "v"}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(withHeader(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{0}))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseSafetensors(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		var total int64
		for _, name := range st.Names() {
			b, err := st.ReadBytes(name)
			if err != nil {
				t.Fatalf("parsed file, but %s unreadable: %v", name, err)
			}
			total += int64(len(b))
		}
		if total != int64(len(data))-st.base {
			t.Fatalf("tensors hold %d bytes of %d", total, int64(len(data))-st.base)
		}
	})
}

func TestSaveLoadTensors(t *testing.T) {
	torchtest.Need(t)
	s := torch.NewScope()
	defer s.Close()
	a := torch.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 1, 2, 3, 1).ToFormat(torch.ChannelsLast)
	b := torch.FromInt64([]int64{42})
	dir := t.TempDir()
	path := filepath.Join(dir, "t.safetensors")
	if err := SaveTensors(path, []Param{{Name: "a", Tensor: a}, {Name: "b", Tensor: b}}, map[string]string{"m": "1"}); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries after an atomic save, want 1", len(ents))
	}
	got, meta, err := LoadTensors(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, p := range got {
			p.Tensor.Close()
		}
	}()
	if meta["m"] != "1" || len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Fatalf("got %v, %v", got, meta)
	}
	av, _ := got[0].Tensor.Float32s()
	for i, v := range av {
		if v != float32(i+1) {
			t.Errorf("a[%d] = %v, want %v", i, v, i+1)
		}
	}
	bv, _ := got[1].Tensor.Int64s()
	if bv[0] != 42 {
		t.Errorf("b = %v, want 42", bv)
	}
	if _, err := OpenSafetensors(filepath.Join(dir, "missing.safetensors")); err == nil {
		t.Errorf("opening a missing file: got no error")
	}
}
