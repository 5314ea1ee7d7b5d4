package loader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"weaksup/shards"
	"weaksup/storage"
)

// ErrPosition is wrapped when a resume position does not fit the loader.
var ErrPosition = errors.New("resume position does not match loader")

// Target encodings.
const (
	TargetsCofK     = "cofk"     // 1/k on each of an item's k labels (Mahajan et al.)
	TargetsMultiHot = "multihot" // 1 on each label, for per-class sigmoid losses
	TargetsNone     = "none"     // no target matrix (Labels only), e.g. fine-tuning with class ids
)

// Config configures a Loader. Zero values take the documented defaults.
type Config struct {
	Split     string // Open only: the shard split, shards.SplitTrain (default) or shards.SplitVal
	Batch     int    // items per batch (default 64)
	ImageSize int    // output side in pixels (default 224)
	Train     bool   // augment: random-resized crop + flip; else resize + center crop
	Seed      uint64 // drives order, sampling, noise and augmentation
	Rank      int    // this process's rank in [0, World)
	World     int    // number of data-parallel processes (default 1)
	Sampling  string // SamplingNatural (default) or SamplingSqrt
	NoiseP    float64
	Targets   string // TargetsCofK (default), TargetsMultiHot or TargetsNone
	Workers   int    // decode goroutines (default GOMAXPROCS)
	Prefetch  int    // batches decoded ahead of Next (default 4)
	// ShuffleBuffer is the size of the shuffle buffer that mixes items after
	// block (shard) order is shuffled (default 8192).
	ShuffleBuffer int
	NoShuffle     bool // keep source order (evaluation); natural sampling only
	DropLast      bool // every rank yields the same number of full batches per epoch
	Epochs        int  // Next returns io.EOF after this many epochs; 0 = never
	Transform     *Transform
	Resume        *Position // continue exactly where a saved Position left off
	// Fraction, in (0, 1), makes Open read only that nested fraction of
	// the split (see Subset); 0 or 1 reads all of it.
	Fraction float64
}

// Position is the exact place of a Loader in its sequence: the epoch and
// the number of this rank's items already returned in it. It also records
// what the sequence depends on, so resuming a different configuration is
// refused. It is JSON-serializable for checkpoints (the field names are
// the ones checkpoints have always stored).
type Position struct {
	Epoch    int    `json:"epoch"`
	Consumed int    `json:"consumed"`
	Seed     uint64 `json:"seed"`
	Rank     int    `json:"rank"`
	World    int    `json:"world"`
	Sampling string `json:"sampling"`
	Items    int    `json:"items"` // Source.Len when saved
}

// Batch is one batch of decoded, normalized images and their targets. Its
// slices are reused after Release.
type Batch struct {
	N       int       // items in this batch (Batch, or fewer at an epoch end)
	Size    int       // image side
	Classes int       // K
	Images  []float32 // N×3×Size×Size, NCHW
	Targets []float32 // N×K (nil with TargetsNone)
	Labels  [][]int32 // per item, after noise injection
	Keys    []string  // per item
	Items   []int     // per item, the Source index
	Epoch   int       // epoch the batch belongs to
	Last    bool      // last batch of its epoch for this rank
	After   Position  // the loader position once this batch is consumed

	l    *Loader
	held bool // handed out by Next and not yet released
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
	pos  []int // global sequence position per item (seeds its randomness)
}

// Release hands the batch's buffers back to the loader. The batch must not
// be used afterwards; releasing it twice is harmless.
func (b *Batch) Release() {
	if b.l == nil || !b.held {
		return
	}
	b.held = false
	select {
	case b.l.free <- b:
	default:
	}
}

// Loader yields batches from a Source in a deterministic, seeded order.
// Next must be called from one goroutine; decoding runs in Workers
// goroutines and at most Prefetch batches are prepared ahead. The loader
// owns Prefetch+2 batch buffers: a caller may hold up to Prefetch+1
// unreleased batches; holding more makes Next wait for a Release.
type Loader struct {
	src     Source
	cfg     Config
	tf      Transform
	noise   *labelNoise
	alias   *aliasTable
	starts  []int
	perRank int // items this rank yields per epoch

	free  chan *Batch
	ready chan *Batch
	jobs  chan job
	stop  chan struct{}
	wg    sync.WaitGroup
	pos   Position
	done  bool
	err   error
	close sync.Once
	owned io.Closer // closed with the loader (Open's shard set)
}

type job struct {
	b    *Batch
	slot int
}

// Open opens split cfg.Split of the shard directory dir and returns a
// loader over it. The loader closes the shards when it is closed. dir may
// be a gs:// or s3:// URL, opened with the storage layer's defaults (see
// OpenIn).
func Open(dir string, cfg Config) (*Loader, error) {
	ss, err := shards.OpenShardSet(dir, splitOf(cfg))
	if err != nil {
		return nil, err
	}
	return openSet(ss, dir, cfg)
}

// OpenIn is Open over the shard directory d, opened with the storage
// options wanted (a Cache, an endpoint); the loader does not close d. The
// shards of a gs:// or s3:// directory are read in place: each shard's
// index columns when it is first used, and the images of each batch this
// rank reads as soon as the batch is planned (up to Prefetch+2 batches
// ahead), many ranged reads at a time. So a rank fetches about its share of
// the image bytes (plus every shard's index columns), and through a Cache
// a host fetches each byte once. ctx bounds every read.
func OpenIn(ctx context.Context, d *storage.Dir, cfg Config) (*Loader, error) {
	ss, err := shards.OpenShardSetIn(ctx, d, splitOf(cfg))
	if err != nil {
		return nil, err
	}
	return openSet(ss, d.String(), cfg)
}

func splitOf(cfg Config) string {
	if cfg.Split == "" {
		return shards.SplitTrain
	}
	return cfg.Split
}

func openSet(ss *shards.ShardSet, dir string, cfg Config) (*Loader, error) {
	if ss.Len() == 0 {
		ss.Close()
		return nil, fmt.Errorf("open loader: split %q of %s has no rows", splitOf(cfg), dir)
	}
	var src Source = ShardSource{ss}
	if cfg.Fraction > 0 && cfg.Fraction < 1 {
		var err error
		if src, err = NewSubset(src, cfg.Fraction); err != nil {
			ss.Close()
			return nil, fmt.Errorf("open loader over %s: %w", dir, err)
		}
	}
	l, err := New(src, cfg)
	if err != nil {
		ss.Close()
		return nil, err
	}
	l.owned = ss
	return l, nil
}

// New returns a loader over src and starts its workers.
func New(src Source, cfg Config) (*Loader, error) {
	if err := fillDefaults(&cfg); err != nil {
		return nil, err
	}
	if src.Len() == 0 {
		return nil, errors.New("open loader: the source has no items")
	}
	l := &Loader{src: src, cfg: cfg}
	if cfg.Transform != nil {
		l.tf = *cfg.Transform
	} else {
		l.tf = NewTransform(cfg.ImageSize, cfg.Train)
	}
	l.tf.Size = cfg.ImageSize
	n := 0
	for _, b := range src.Blocks() {
		l.starts = append(l.starts, n)
		n += b
	}
	if n != src.Len() {
		return nil, fmt.Errorf("open loader: source blocks hold %d items, Len says %d", n, src.Len())
	}
	var counts []int64
	if cfg.Sampling == SamplingSqrt || cfg.NoiseP > 0 {
		var err error
		if counts, err = tagCounts(src); err != nil {
			return nil, err
		}
	}
	if cfg.Sampling == SamplingSqrt {
		w, err := sqrtWeights(src.Labels, src.Len(), counts)
		if err != nil {
			return nil, fmt.Errorf("open loader: %w", err)
		}
		l.alias = newAliasTable(w)
	}
	if cfg.NoiseP > 0 {
		ns, err := newLabelNoise(cfg.NoiseP, counts)
		if err != nil {
			return nil, fmt.Errorf("open loader: %w", err)
		}
		l.noise = ns
	}
	N, W := src.Len(), cfg.World
	if cfg.DropLast {
		l.perRank = N / W / cfg.Batch * cfg.Batch
		if l.perRank == 0 {
			return nil, fmt.Errorf("open loader: %d items over %d ranks make no full batch of %d", N, W, cfg.Batch)
		}
	} else {
		l.perRank = (N - cfg.Rank + W - 1) / W
		if l.perRank == 0 {
			return nil, fmt.Errorf("open loader: %d items leave rank %d of %d nothing", N, cfg.Rank, W)
		}
	}
	l.pos = Position{Seed: cfg.Seed, Rank: cfg.Rank, World: W, Sampling: cfg.Sampling, Items: N}
	if r := cfg.Resume; r != nil {
		if r.Seed != cfg.Seed || r.Rank != cfg.Rank || r.World != W || r.Sampling != cfg.Sampling || r.Items != N {
			return nil, fmt.Errorf("open loader: %w: saved seed %d rank %d/%d sampling %s items %d, loader has seed %d rank %d/%d sampling %s items %d",
				ErrPosition, r.Seed, r.Rank, r.World, r.Sampling, r.Items, cfg.Seed, cfg.Rank, W, cfg.Sampling, N)
		}
		if r.Consumed < 0 || r.Consumed > l.perRank || r.Epoch < 0 {
			return nil, fmt.Errorf("open loader: %w: consumed %d of %d items in epoch %d", ErrPosition, r.Consumed, l.perRank, r.Epoch)
		}
		l.pos.Epoch, l.pos.Consumed = r.Epoch, r.Consumed
	}
	nbuf := cfg.Prefetch + 2
	l.free = make(chan *Batch, nbuf)
	l.ready = make(chan *Batch, cfg.Prefetch)
	l.jobs = make(chan job, cfg.Batch*2)
	l.stop = make(chan struct{})
	for range nbuf {
		l.free <- l.newBatch()
	}
	for range cfg.Workers {
		l.wg.Add(1)
		go l.work()
	}
	l.wg.Add(1)
	go l.produce(l.pos)
	return l, nil
}

func fillDefaults(c *Config) error {
	if c.Batch == 0 {
		c.Batch = 64
	}
	if c.ImageSize == 0 {
		c.ImageSize = 224
	}
	if c.World == 0 {
		c.World = 1
	}
	if c.Sampling == "" {
		c.Sampling = SamplingNatural
	}
	if c.Targets == "" {
		c.Targets = TargetsCofK
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Prefetch == 0 {
		c.Prefetch = 4
	}
	if c.ShuffleBuffer == 0 {
		c.ShuffleBuffer = 8192
	}
	switch {
	case c.Batch < 0:
		return fmt.Errorf("open loader: batch size %d is negative", c.Batch)
	case c.ImageSize < 0:
		return fmt.Errorf("open loader: image size %d is negative", c.ImageSize)
	case c.World < 1 || c.Rank < 0 || c.Rank >= c.World:
		return fmt.Errorf("open loader: rank %d is outside world size %d", c.Rank, c.World)
	case c.Sampling != SamplingNatural && c.Sampling != SamplingSqrt:
		return fmt.Errorf("open loader: unknown sampling %q (want %s or %s)", c.Sampling, SamplingNatural, SamplingSqrt)
	case c.Targets != TargetsCofK && c.Targets != TargetsMultiHot && c.Targets != TargetsNone:
		return fmt.Errorf("open loader: unknown targets %q (want %s, %s or %s)", c.Targets, TargetsCofK, TargetsMultiHot, TargetsNone)
	case c.NoiseP < 0 || c.NoiseP > 1:
		return fmt.Errorf("open loader: noise probability %g is outside [0,1]", c.NoiseP)
	case c.Workers < 0 || c.Prefetch < 0 || c.ShuffleBuffer < 0 || c.Epochs < 0:
		return errors.New("open loader: workers, prefetch, shuffle buffer and epochs must not be negative")
	case c.NoShuffle && c.Sampling != SamplingNatural:
		return errors.New("open loader: NoShuffle needs natural sampling")
	}
	return nil
}

// tagCounts returns how many items carry each label.
func tagCounts(src Source) ([]int64, error) {
	if tc, ok := src.(TagCounter); ok {
		return tc.TagCounts(), nil
	}
	counts := make([]int64, src.NumClasses())
	for i := 0; i < src.Len(); i++ {
		l, err := src.Labels(i)
		if err != nil {
			return nil, fmt.Errorf("count labels: %w", err)
		}
		for _, t := range l {
			if t >= 0 && int(t) < len(counts) {
				counts[t]++
			}
		}
	}
	return counts, nil
}

func (l *Loader) newBatch() *Batch {
	B, S, K := l.cfg.Batch, l.cfg.ImageSize, l.src.NumClasses()
	b := &Batch{l: l, Size: S, Classes: K,
		Images: make([]float32, B*3*S*S),
		Labels: make([][]int32, B), Keys: make([]string, B), Items: make([]int, B), pos: make([]int, B)}
	if l.cfg.Targets != TargetsNone {
		b.Targets = make([]float32, B*K)
	}
	return b
}

// Len is the number of items in the source.
func (l *Loader) Len() int { return l.src.Len() }

// NumClasses is the number of label ids (K).
func (l *Loader) NumClasses() int { return l.src.NumClasses() }

// ItemsPerEpoch is the number of items this rank yields per epoch.
func (l *Loader) ItemsPerEpoch() int { return l.perRank }

// StepsPerEpoch is the number of batches this rank yields per epoch (with
// DropLast, the same on every rank).
func (l *Loader) StepsPerEpoch() int { return (l.perRank + l.cfg.Batch - 1) / l.cfg.Batch }

// Position returns where the loader stands after the last batch Next
// returned; a loader opened with it as Resume continues with the batch that
// would have come next.
func (l *Loader) Position() Position { return l.pos }

// Next returns the next batch. At the end of the last of cfg.Epochs epochs
// it returns io.EOF. A decode or read error is returned once and ends the
// loader; it names the item. Once ctx is done, Next returns ctx.Err()
// without taking a batch, even when one is ready, and the loader stays
// where it was.
func (l *Loader) Next(ctx context.Context) (*Batch, error) {
	if l.err != nil {
		return nil, l.err
	}
	if l.done {
		return nil, io.EOF
	}
	// A select with a ready batch and a done context picks either at
	// random, so cancellation is checked first: a caller that cancels
	// must not get batches (or io.EOF, "all done") afterwards.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var b *Batch
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case nb, ok := <-l.ready:
		if !ok {
			l.done = true
			return nil, io.EOF
		}
		b = nb
	}
	b.wg.Wait()
	b.held = true
	if b.err != nil {
		l.err = b.err
		b.Release()
		l.Close()
		return nil, l.err
	}
	l.pos = b.After
	return b, nil
}

// Close stops the workers and, for Open, closes the shards. Batches
// not yet released must not be used afterwards. It is idempotent.
func (l *Loader) Close() error {
	var err error
	l.close.Do(func() {
		close(l.stop)
		// Unblock a producer waiting on a full ready queue.
		go func() {
			for range l.ready {
			}
		}()
		l.wg.Wait()
		if l.owned != nil {
			err = l.owned.Close()
		}
	})
	return err
}
