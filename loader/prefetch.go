package loader

import (
	"fmt"
	"math/rand/v2"
)

// produce fills batches in sequence order and hands their items to the
// workers. It starts at the start position and stops after cfg.Epochs.
func (l *Loader) produce(start Position) {
	epoch, consumed := start.Epoch, start.Consumed
	defer l.wg.Done()
	defer close(l.ready)
	defer close(l.jobs)
	W, R, B := l.cfg.World, l.cfg.Rank, l.cfg.Batch
	N := l.src.Len()
	pf, _ := l.src.(Prefetcher)
	for ; l.cfg.Epochs == 0 || epoch < l.cfg.Epochs; epoch, consumed = epoch+1, 0 {
		ord := newEpochOrder(l.cfg.Seed, epoch, l.src.Blocks(), l.starts, N, l.cfg.ShuffleBuffer, l.cfg.NoShuffle, l.alias)
		// This rank's k-th item is global position k*W+R.
		gpos := 0
		skip := func(to int) bool {
			for gpos < to {
				if _, ok := ord.next(); !ok {
					return false
				}
				gpos++
			}
			return true
		}
		for consumed < l.perRank {
			var b *Batch
			select {
			case <-l.stop:
				return
			case b = <-l.free:
			}
			b.N, b.err, b.Epoch = 0, nil, epoch
			for b.N < B && consumed < l.perRank {
				if !skip(consumed*W + R) {
					break
				}
				item, ok := ord.next()
				if !ok {
					break
				}
				gpos++
				b.Items[b.N], b.pos[b.N] = item, consumed*W+R
				b.N++
				consumed++
			}
			if pf != nil && b.N > 0 {
				pf.Prefetch(b.Items[:b.N])
			}
			b.Last = consumed >= l.perRank
			b.After = start
			b.After.Epoch, b.After.Consumed = epoch, consumed
			if b.Last {
				b.After.Epoch, b.After.Consumed = epoch+1, 0
			}
			b.wg.Add(b.N)
			for s := 0; s < b.N; s++ {
				select {
				case <-l.stop:
					return
				case l.jobs <- job{b: b, slot: s}:
				}
			}
			select {
			case <-l.stop:
				return
			case l.ready <- b:
			}
		}
	}
}

// work decodes items until the job queue closes.
func (l *Loader) work() {
	defer l.wg.Done()
	sc := &scratch{}
	defer sc.dec.close()
	var buf []byte
	var pcg rand.PCG
	r := rand.New(&pcg)
	S := l.cfg.ImageSize
	K := l.src.NumClasses()
	for j := range l.jobs {
		b, s := j.b, j.slot
		pcg.Seed(mix(l.cfg.Seed, b.Epoch, streamItem), uint64(b.pos[s]))
		ex, err := l.src.Example(b.Items[s], buf)
		if err == nil {
			if ex.Image != nil {
				buf = ex.Image
			}
			b.Keys[s] = ex.Key
			b.Labels[s] = l.labels(b.Labels[s][:0], ex.Labels, r)
			if b.Targets != nil {
				fillTargets(b.Targets[s*K:(s+1)*K], b.Labels[s], l.cfg.Targets)
			}
			err = l.tf.apply(b.Images[s*3*S*S:(s+1)*3*S*S], ex, r, sc)
		}
		if err != nil {
			err = fmt.Errorf("load %s: %w", l.where(b.Items[s]), err)
			b.mu.Lock()
			if b.err == nil {
				b.err = err
			}
			b.mu.Unlock()
		}
		b.wg.Done()
	}
}

func (l *Loader) where(i int) string {
	if w, ok := l.src.(interface{ Where(int) string }); ok {
		return w.Where(i)
	}
	return fmt.Sprintf("item %d", i)
}

// labels appends the item's labels to dst, after noise injection.
func (l *Loader) labels(dst, labels []int32, r *rand.Rand) []int32 {
	if l.noise == nil {
		return append(dst, labels...)
	}
	return l.noise.apply(dst, labels, r)
}

// fillTargets writes the target row of one item.
func fillTargets(row []float32, labels []int32, mode string) {
	for i := range row {
		row[i] = 0
	}
	k := 0
	for _, t := range labels {
		if t >= 0 && int(t) < len(row) {
			k++
		}
	}
	if k == 0 {
		return
	}
	v := float32(1)
	if mode == TargetsCofK {
		v = 1 / float32(k)
	}
	for _, t := range labels {
		if t >= 0 && int(t) < len(row) {
			if mode == TargetsCofK {
				row[t] += v
			} else {
				row[t] = 1
			}
		}
	}
}
