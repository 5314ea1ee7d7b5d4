package finetune

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"weaksup/atomicfile"
	"weaksup/datasets"
	"weaksup/loader"
	"weaksup/torch"
	"weaksup/train"
)

// Features are the pooled backbone features of a list of images, in the
// list's order, with their classes: what the linear probe trains on.
type Features struct {
	Dim     int       `json:"dim"`
	Classes int       `json:"classes"`
	Vectors []float32 `json:"-"` // Len × Dim, row-major
	Labels  []int32   `json:"-"`
	// Done is how many leading images have their features: Len once
	// complete, fewer in an extraction that was interrupted.
	Done int `json:"done"`
}

// Len is the number of images.
func (f *Features) Len() int { return len(f.Labels) }

// Row returns the features of image i.
func (f *Features) Row(i int) []float32 { return f.Vectors[i*f.Dim : (i+1)*f.Dim] }

// ExtractOptions configure Extract.
type ExtractOptions struct {
	ImageSize int
	Batch     int // images per forward pass (default 64)
	Workers   int // decode goroutines (default GOMAXPROCS)
	Device    torch.Device
	Precision train.Precision // of the forward pass ("": fp32); features come out float32
	Log       io.Writer       // progress; nil discards it
	Label     string          // progress label
	// Transform is the evaluation transform (nil: resize and center crop,
	// the ImageNet recipe; see Transforms).
	Transform *loader.Transform
}

// extract runs the backbone of m in evaluation mode without gradients over
// the images of split (center crop, no augmentation) and returns their
// pooled features.
func extract(ctx context.Context, m train.Model, split datasets.Split, numClasses int, o ExtractOptions) (*Features, error) {
	f := &Features{Classes: numClasses, Labels: make([]int32, split.Len())}
	if err := f.extend(ctx, m, split, o); err != nil {
		return nil, err
	}
	return f, nil
}

// extend computes the features of images f.Done onwards of split,
// advancing Done after every batch; after an error (an interruption) f
// holds what was done.
func (f *Features) extend(ctx context.Context, m train.Model, split datasets.Split, o ExtractOptions) error {
	if split.Len() != f.Len() {
		return fmt.Errorf("extract features: %d images for a feature set of %d", split.Len(), f.Len())
	}
	if f.Done == split.Len() {
		return nil
	}
	if o.Label == "" {
		o.Label = "features"
	}
	err := forImages(ctx, split, f.Classes, train.Part{}, f.Done, o, func(x *torch.Tensor, b *loader.Batch) error {
		v, err := pooledFeatures(m, x, o.Device)
		if err != nil {
			return err
		}
		if f.Vectors == nil {
			f.Dim = len(v) / b.N
			f.Vectors = make([]float32, split.Len()*f.Dim)
		}
		if len(v) != b.N*f.Dim {
			return fmt.Errorf("got %d features for %d images of dim %d", len(v), b.N, f.Dim)
		}
		for j := 0; j < b.N; j++ {
			i := b.Items[j]
			if i != f.Done {
				return fmt.Errorf("image %d came out of order (want %d)", i, f.Done)
			}
			copy(f.Row(i), v[j*f.Dim:(j+1)*f.Dim])
			f.Labels[i] = split.Class(i)
			f.Done++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("extract features: %w", err)
	}
	return nil
}

// pooledFeatures runs the backbone of m on the image batch x (on dev) and
// returns its pooled features, row after row.
func pooledFeatures(m train.Model, x *torch.Tensor, dev torch.Device) ([]float32, error) {
	y, err := m.Features(x, false)
	if err != nil {
		return nil, err
	}
	if dev != torch.CPU {
		y = y.To(torch.CPU)
	}
	return y.ToDType(torch.Float32).Float32s() // bf16 or fp16 under autocast
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// FeatureKey fingerprints what features depend on: the weights file's
// bytes (or the seed of a random network), the architecture, the image
// size, and the split's fingerprint (for files: every image's path, class,
// size and modification time). A cache file is reused only under the same
// key.
func FeatureKey(weights string, seed uint64, arch string, imageSize int, split datasets.Split) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "weaksup features v1\narch %s\nsize %d\n", arch, imageSize)
	if weights == "" {
		fmt.Fprintf(h, "random init seed %d\n", seed)
	} else {
		f, err := os.Open(weights)
		if err != nil {
			return "", fmt.Errorf("fingerprint weights: %w", err)
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("fingerprint weights %s: %w", weights, err)
		}
	}
	if err := split.Fingerprint(h); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// featureMagic starts every feature cache file.
const featureMagic = "WSFEAT01"

type featureHeader struct {
	Key     string `json:"key"`
	Images  int    `json:"images"`
	Done    int    `json:"done"`
	Dim     int    `json:"dim"`
	Classes int    `json:"classes"`
}

// ErrStaleFeatures is returned by ReadFeatures when the file was computed
// for another key (other weights, images or settings).
var ErrStaleFeatures = errors.New("feature cache is stale")

// WriteFeatures writes f under key to path atomically (temporary file,
// fsync, rename): the magic, a little-endian uint32 header length, a JSON
// header, the float32 vectors and the int32 labels, all little-endian. It
// streams, so it needs no second copy of the features in memory.
func WriteFeatures(path, key string, f *Features) error {
	hdr, err := json.Marshal(featureHeader{Key: key, Images: f.Len(), Done: f.Done, Dim: f.Dim, Classes: f.Classes})
	if err != nil {
		return fmt.Errorf("write features %s: %w", path, err)
	}
	err = atomicfile.Write(path, func(out io.Writer) error {
		w := bufio.NewWriterSize(out, 1<<20)
		w.WriteString(featureMagic)
		binary.Write(w, binary.LittleEndian, uint32(len(hdr)))
		w.Write(hdr)
		var word [4]byte
		for _, v := range f.Vectors {
			binary.LittleEndian.PutUint32(word[:], math.Float32bits(v))
			w.Write(word[:])
		}
		for _, l := range f.Labels {
			binary.LittleEndian.PutUint32(word[:], uint32(l))
			w.Write(word[:])
		}
		return w.Flush() // a bufio.Writer keeps its first error
	})
	if err != nil {
		return fmt.Errorf("write features: %w", err)
	}
	return nil
}

// ReadFeatures reads a file written by WriteFeatures under key. A file of
// another key gives ErrStaleFeatures; a damaged one an error naming it.
func ReadFeatures(path, key string) (*Features, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read features: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("read features: %w", err)
	}
	bad := func(msg string) error { return fmt.Errorf("read features %s: %s", path, msg) }
	r := bufio.NewReaderSize(file, 1<<20)
	head := make([]byte, len(featureMagic)+4)
	if _, err := io.ReadFull(r, head); err != nil || string(head[:len(featureMagic)]) != featureMagic {
		return nil, bad("not a weaksup feature file")
	}
	n := int64(binary.LittleEndian.Uint32(head[len(featureMagic):]))
	if n > st.Size()-int64(len(head)) {
		return nil, bad("header runs past the end of the file")
	}
	hb := make([]byte, n)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, bad("header: " + err.Error())
	}
	var h featureHeader
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, bad("header: " + err.Error())
	}
	if h.Key != key {
		return nil, fmt.Errorf("read features %s: %w", path, ErrStaleFeatures)
	}
	body := st.Size() - int64(len(head)) - n
	if h.Images < 0 || h.Dim < 0 || h.Classes < 0 || h.Dim > 1<<20 || h.Done < 0 || h.Done > h.Images || uint64(h.Images)*uint64(h.Dim+1)*4 != uint64(body) {
		return nil, bad(fmt.Sprintf("%d bytes of data for %d images of %d features", body, h.Images, h.Dim))
	}
	f := &Features{Dim: h.Dim, Classes: h.Classes, Vectors: make([]float32, h.Images*h.Dim), Labels: make([]int32, h.Images), Done: h.Done}
	var word [4]byte
	for i := range f.Vectors {
		if _, err := io.ReadFull(r, word[:]); err != nil {
			return nil, bad(err.Error())
		}
		f.Vectors[i] = math.Float32frombits(binary.LittleEndian.Uint32(word[:]))
	}
	for i := range f.Labels {
		if _, err := io.ReadFull(r, word[:]); err != nil {
			return nil, bad(err.Error())
		}
		f.Labels[i] = int32(binary.LittleEndian.Uint32(word[:]))
		if f.Labels[i] < 0 || int(f.Labels[i]) >= h.Classes {
			return nil, bad(fmt.Sprintf("image %d has class %d outside [0,%d)", i, f.Labels[i], h.Classes))
		}
	}
	return f, nil
}

// CachedFeatures returns the features of the images of split (named name)
// from dir/<name>-<key>.feat when it holds them under key, and otherwise
// extracts them and writes the file. An interrupted extraction writes what
// it has, and the next call with the same key continues from there. It
// reports whether the features came from the cache without extracting any.
func CachedFeatures(ctx context.Context, dir, name, key string, m train.Model, split datasets.Split, numClasses int, o ExtractOptions) (*Features, bool, error) {
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.feat", name, key[:min(16, len(key))]))
	f, err := ReadFeatures(path, key)
	usable := err == nil && f.Len() == split.Len() && f.Classes == numClasses
	if usable && f.Done == f.Len() {
		return f, true, nil
	}
	switch {
	case usable:
		logf(o.Log, "features %s: continuing at image %d of %d from %s\n", name, f.Done, f.Len(), path)
	case err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, ErrStaleFeatures):
		logf(o.Log, "%v; computing the features again\n", err)
		fallthrough
	default:
		f = &Features{Classes: numClasses, Labels: make([]int32, split.Len())}
	}
	if o.Label == "" {
		o.Label = "features " + name
	}
	if err := f.extend(ctx, m, split, o); err != nil {
		if f.Done > 0 && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			if werr := WriteFeatures(path, key, f); werr != nil {
				return nil, false, errors.Join(err, werr)
			}
			logf(o.Log, "features %s: saved %d of %d images to %s\n", name, f.Done, f.Len(), path)
		}
		return nil, false, err
	}
	if err := WriteFeatures(path, key, f); err != nil {
		return nil, false, err
	}
	return f, false, nil
}

// featureFiles lists the cache files of dir, for tests and clean-up.
func featureFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".feat") {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
