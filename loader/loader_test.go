package loader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"testing"

	"weaksup/shards"
	"weaksup/shards/shardstest"
)

// drain reads batches until io.EOF and returns copies of them.
type seen struct {
	items  []int
	epochs []int
	labels [][]int32
	images [][]float32
	keys   []string
}

func drain(t *testing.T, l *Loader, maxBatches int) (seen, error) {
	t.Helper()
	var s seen
	for n := 0; maxBatches < 0 || n < maxBatches; n++ {
		b, err := l.Next(context.Background())
		if err != nil {
			return s, err
		}
		per := 3 * b.Size * b.Size
		for i := 0; i < b.N; i++ {
			s.items = append(s.items, b.Items[i])
			s.epochs = append(s.epochs, b.Epoch)
			s.labels = append(s.labels, slices.Clone(b.Labels[i]))
			s.images = append(s.images, slices.Clone(b.Images[i*per:(i+1)*per]))
			s.keys = append(s.keys, b.Keys[i])
		}
		b.Release()
	}
	return s, nil
}

func TestLoaderEveryItemOncePerEpoch(t *testing.T) {
	const n = 203
	rows := shardstest.Rows(t, n, 20, 16)
	dir := shardstest.WriteDir(t, rows, 37, 20)
	for _, tc := range []struct{ world, batch, shuffle int }{
		{1, 16, 0}, {2, 16, 0}, {3, 7, 50}, {5, 10, 1}, {8, 64, 1000},
	} {
		t.Run(fmt.Sprintf("world=%d/batch=%d/buffer=%d", tc.world, tc.batch, tc.shuffle), func(t *testing.T) {
			perEpoch := [2][]int{}
			for rank := 0; rank < tc.world; rank++ {
				l, err := Open(dir, Config{Batch: tc.batch, ImageSize: 8, Train: true, Seed: 9,
					Rank: rank, World: tc.world, Epochs: 2, Workers: 2, ShuffleBuffer: tc.shuffle})
				if err != nil {
					t.Fatal(err)
				}
				s, err := drain(t, l, -1)
				if !errors.Is(err, io.EOF) {
					t.Fatalf("rank %d: Next = %v, want io.EOF after 2 epochs", rank, err)
				}
				l.Close()
				for i, it := range s.items {
					perEpoch[s.epochs[i]] = append(perEpoch[s.epochs[i]], it)
					if got, want := s.keys[i], rows[it].Key; got != want {
						t.Fatalf("item %d has key %s, want %s", it, got, want)
					}
				}
			}
			for e, items := range perEpoch {
				got := slices.Sorted(slices.Values(items))
				want := make([]int, n)
				for i := range want {
					want[i] = i
				}
				if !slices.Equal(got, want) {
					t.Errorf("epoch %d: items over all ranks = %d items %v..., want each of %d once", e, len(got), got[:min(10, len(got))], n)
				}
			}
			if slices.Equal(perEpoch[0], perEpoch[1]) {
				t.Errorf("epochs 0 and 1 have the same order")
			}
		})
	}
}

func TestLoaderDropLastEqualSteps(t *testing.T) {
	rows := shardstest.Rows(t, 103, 10, 16)
	dir := shardstest.WriteDir(t, rows, 20, 10)
	for rank := 0; rank < 4; rank++ {
		l, err := Open(dir, Config{Batch: 8, ImageSize: 8, Rank: rank, World: 4, DropLast: true, Epochs: 1})
		if err != nil {
			t.Fatal(err)
		}
		steps := 0
		for {
			b, err := l.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.N != 8 {
				t.Errorf("rank %d: batch of %d, want 8", rank, b.N)
			}
			steps++
			b.Release()
		}
		l.Close()
		// 103/4 = 25 items per rank, 3 full batches.
		if got, want := steps, 3; got != want || l.StepsPerEpoch() != want {
			t.Errorf("rank %d: %d steps (StepsPerEpoch %d), want %d", rank, got, l.StepsPerEpoch(), want)
		}
	}
}

func TestLoaderResumeReproducesSequence(t *testing.T) {
	rows := shardstest.Rows(t, 90, 12, 24)
	dir := shardstest.WriteDir(t, rows, 25, 12)
	for _, sampling := range []string{SamplingNatural, SamplingSqrt} {
		cfg := Config{Batch: 7, ImageSize: 12, Train: true, Seed: 5, Rank: 1, World: 2, Sampling: sampling,
			NoiseP: 0.3, Epochs: 3, Workers: 3, ShuffleBuffer: 20}
		l, err := Open(dir, cfg)
		if err != nil {
			t.Fatal(err)
		}
		full, err := drain(t, l, -1)
		if !errors.Is(err, io.EOF) {
			t.Fatalf("Next = %v, want io.EOF", err)
		}
		l.Close()
		for _, cut := range []int{0, 1, 6, 7, 13} {
			t.Run(fmt.Sprintf("sampling=%s/batches=%d", sampling, cut), func(t *testing.T) {
				l, err := Open(dir, cfg)
				if err != nil {
					t.Fatal(err)
				}
				head, err := drain(t, l, cut)
				if err != nil {
					t.Fatal(err)
				}
				saved, err := json.Marshal(l.Position())
				if err != nil {
					t.Fatal(err)
				}
				l.Close()
				var pos Position
				if err := json.Unmarshal(saved, &pos); err != nil {
					t.Fatal(err)
				}
				rc := cfg
				rc.Resume = &pos
				rc.Workers = 1 // a different worker count must not change the result
				l, err = Open(dir, rc)
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				tail, err := drain(t, l, -1)
				if !errors.Is(err, io.EOF) {
					t.Fatalf("Next = %v, want io.EOF", err)
				}
				got := seen{
					items:  append(head.items, tail.items...),
					epochs: append(head.epochs, tail.epochs...),
					labels: append(head.labels, tail.labels...),
					images: append(head.images, tail.images...),
				}
				if !slices.Equal(got.items, full.items) || !slices.Equal(got.epochs, full.epochs) {
					t.Fatalf("resumed items %v\nwant %v", got.items, full.items)
				}
				if !reflect.DeepEqual(got.labels, full.labels) {
					t.Errorf("resumed labels differ from an uninterrupted run")
				}
				for i := range got.images {
					if !slices.Equal(got.images[i], full.images[i]) {
						t.Fatalf("image %d (item %d) differs from an uninterrupted run", i, got.items[i])
					}
				}
			})
		}
	}
}

func TestLoaderRefusesForeignPosition(t *testing.T) {
	rows := shardstest.Rows(t, 30, 5, 16)
	dir := shardstest.WriteDir(t, rows, 30, 5)
	pos := Position{Epoch: 0, Consumed: 4, Seed: 1, Rank: 0, World: 2, Sampling: SamplingNatural, Items: 30}
	_, err := Open(dir, Config{Seed: 1, World: 1, ImageSize: 8, Resume: &pos})
	if !errors.Is(err, ErrPosition) {
		t.Errorf("resume a world-2 position in a world-1 loader: err = %v, want ErrPosition", err)
	}
}

func TestLoaderTargets(t *testing.T) {
	rows := shardstest.Rows(t, 40, 9, 16)
	dir := shardstest.WriteDir(t, rows, 40, 9)
	for _, mode := range []string{TargetsCofK, TargetsMultiHot} {
		l, err := Open(dir, Config{Batch: 40, ImageSize: 8, Targets: mode, NoShuffle: true, Epochs: 1})
		if err != nil {
			t.Fatal(err)
		}
		b, err := l.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < b.N; i++ {
			row := b.Targets[i*9 : (i+1)*9]
			k := float32(len(rows[b.Items[i]].Labels))
			for c, got := range row {
				want := float32(0)
				if slices.Contains(rows[b.Items[i]].Labels, int32(c)) {
					want = 1
					if mode == TargetsCofK {
						want = 1 / k
					}
				}
				if math.Abs(float64(got-want)) > 1e-6 {
					t.Errorf("%s: item %d class %d target = %g, want %g", mode, b.Items[i], c, got, want)
				}
			}
		}
		b.Release()
		l.Close()
	}
}

// TestLoaderNoiseRate checks the loader applies label noise at rate p: a
// label stays the same with probability (1-p) + p·q(t), where q is the tag
// marginal the replacement is drawn from.
func TestLoaderNoiseRate(t *testing.T) {
	const k, p = 10, 0.4
	rows := shardstest.Rows(t, 400, k, 8)
	dir := shardstest.WriteDir(t, rows, 400, k)
	m, err := shards.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	counts := m.Splits[shards.SplitTrain].TagCounts
	var sum int64
	for _, c := range counts {
		sum += c
	}
	l, err := Open(dir, Config{Batch: 100, ImageSize: 4, NoiseP: p, Targets: TargetsNone, Epochs: 5, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := drain(t, l, -1)
	if !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	same, total, expSame := 0, 0, 0.0
	for i, it := range s.items {
		orig := rows[it].Labels
		if len(s.labels[i]) != len(orig) {
			t.Fatalf("item %d: %d labels after noise, want %d", it, len(s.labels[i]), len(orig))
		}
		for j, tag := range orig {
			total++
			if s.labels[i][j] == tag {
				same++
			}
			expSame += (1 - p) + p*float64(counts[tag])/float64(sum)
		}
	}
	// Sum of independent Bernoullis; bound by 4.5 standard deviations.
	varSame := 0.0
	for _, it := range s.items {
		for _, tag := range rows[it].Labels {
			q := (1 - p) + p*float64(counts[tag])/float64(sum)
			varSame += q * (1 - q)
		}
	}
	if d := math.Abs(float64(same) - expSame); d > 4.5*math.Sqrt(varSame) {
		t.Errorf("%d of %d labels unchanged, want %.0f ± %.0f", same, total, expSame, 4.5*math.Sqrt(varSame))
	}
}

// TestLoaderEvictsShardsSafely reads more shards than stay open, in an
// order that jumps between them, with several workers: a shard closed while
// a worker still copies from it would crash or return the wrong bytes.
func TestLoaderEvictsShardsSafely(t *testing.T) {
	rows := shardstest.Rows(t, 130, 6, 16)
	dir := shardstest.WriteDir(t, rows, 5, 6) // 26 shards, more than maxOpenShards
	l, err := Open(dir, Config{Batch: 9, ImageSize: 8, Workers: 4, Epochs: 3, ShuffleBuffer: 1000,
		Sampling: SamplingSqrt, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := drain(t, l, -1)
	if !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if len(s.items) != 3*len(rows) {
		t.Fatalf("%d items over 3 epochs, want %d", len(s.items), 3*len(rows))
	}
	for i, it := range s.items {
		if s.keys[i] != rows[it].Key || !slices.Equal(s.labels[i], rows[it].Labels) {
			t.Fatalf("item %d: key %s labels %v, want %s %v", it, s.keys[i], s.labels[i], rows[it].Key, rows[it].Labels)
		}
	}
}

// TestLoaderStopsOnCancelledContext asks a loader whose next batches are
// decoded and waiting for batches with a cancelled context: every call
// must report the cancellation, and the loader must continue from the
// same place afterwards.
func TestLoaderStopsOnCancelledContext(t *testing.T) {
	rows := shardstest.Rows(t, 40, 4, 16)
	dir := shardstest.WriteDir(t, rows, 40, 4)
	l, err := Open(dir, Config{Batch: 4, ImageSize: 8, NoShuffle: true, Epochs: 1, Workers: 2, Prefetch: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	first, err := l.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	first.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 50 {
		if b, err := l.Next(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("call %d with a cancelled context: got batch %v, error %v; want context.Canceled", i, b != nil, err)
		}
	}
	if got, want := l.Position().Consumed, 4; got != want {
		t.Errorf("position after the cancelled calls: %d consumed, want %d", got, want)
	}
	s, err := drain(t, l, -1)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	if len(s.items) != 36 || s.items[0] != 4 {
		t.Errorf("after the cancelled calls: %d items from item %v, want the remaining 36 from item 4", len(s.items), s.items[:min(1, len(s.items))])
	}
}

// TestPositionJSON reads a position as checkpoints store it (state.json's
// "loader") and writes it back unchanged: checkpoints written before the
// loader had a package of its own still resume.
func TestPositionJSON(t *testing.T) {
	const saved = `{"epoch":2,"consumed":48,"seed":3,"rank":1,"world":4,"sampling":"sqrt","items":640}`
	var p Position
	if err := json.Unmarshal([]byte(saved), &p); err != nil {
		t.Fatal(err)
	}
	want := Position{Epoch: 2, Consumed: 48, Seed: 3, Rank: 1, World: 4, Sampling: SamplingSqrt, Items: 640}
	if p != want {
		t.Errorf("decoded %+v, want %+v", p, want)
	}
	if b, err := json.Marshal(p); err != nil || string(b) != saved {
		t.Errorf("encoded %s (%v), want %s", b, err, saved)
	}
}
