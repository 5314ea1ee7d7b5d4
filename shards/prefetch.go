package shards

import (
	"context"
	"sort"
	"sync"
)

// prefetchRequests bounds the ranged reads a ShardSet over a URL runs at
// once for Prefetch: enough to hide a service's time to first byte (tens
// of milliseconds) behind the decoding of a few batches.
const prefetchRequests = 32

// prefetcher fetches the images of rows of shards read in place before
// they are read: a bounded number of requests at a time, the images of
// adjacent rows of a record batch in one request. Each image is held until
// its Read takes it (or the set closes).
type prefetcher struct {
	ss     *ShardSet
	ctx    context.Context
	cancel context.CancelFunc
	sem    chan struct{}
	wg     sync.WaitGroup

	mu     sync.Mutex
	pend   map[int]*pendingImage
	closed bool
}

// wanted is an item being fetched and its entry.
type wanted struct {
	item int
	e    *pendingImage
}

type pendingImage struct {
	done chan struct{} // closed when img or err is set
	img  []byte
	err  error
	refs int // Prefetch calls not yet matched by a Read
}

func newPrefetcher(ctx context.Context, ss *ShardSet) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	return &prefetcher{ss: ss, ctx: ctx, cancel: cancel, sem: make(chan struct{}, prefetchRequests), pend: map[int]*pendingImage{}}
}

// Prefetch starts fetching the images of items (global rows of the split)
// so that Read finds them ready. It returns at once. Each item is held
// until a Read of it; items read without a Prefetch are fetched by Read
// itself. Over a local directory it does nothing.
func (ss *ShardSet) Prefetch(items []int) {
	p := ss.fetch
	if p == nil {
		return
	}
	groups := map[int][]wanted{}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	for _, i := range items {
		if e, ok := p.pend[i]; ok {
			e.refs++
			continue
		}
		k, _, err := ss.locate(i)
		if err != nil {
			continue // Read says what is wrong with it
		}
		e := &pendingImage{done: make(chan struct{}), refs: 1}
		p.pend[i] = e
		groups[k] = append(groups[k], wanted{i, e})
	}
	p.wg.Add(len(groups))
	p.mu.Unlock()
	for k, rows := range groups {
		go p.fetchShard(k, rows)
	}
}

// take returns item i's image appended to buf[:0] if it was prefetched,
// waiting for it when it is still on its way.
func (p *prefetcher) take(i int, buf []byte) ([]byte, bool, error) {
	if p == nil {
		return nil, false, nil
	}
	p.mu.Lock()
	e, ok := p.pend[i]
	if ok {
		if e.refs--; e.refs == 0 {
			delete(p.pend, i)
		}
	}
	p.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	<-e.done
	if e.err != nil {
		return nil, false, e.err
	}
	return append(buf[:0], e.img...), true, nil
}

// fetchShard fetches the images of items, all in shard k.
func (p *prefetcher) fetchShard(k int, items []wanted) {
	defer p.wg.Done()
	finish := func(w wanted, img []byte, err error) {
		w.e.img, w.e.err = img, err
		close(w.e.done)
	}
	o, err := p.ss.acquire(k)
	if err != nil {
		for _, w := range items {
			finish(w, nil, err)
		}
		return
	}
	defer p.ss.release(o)
	type run struct {
		sp    span
		items []wanted
		spans []span
	}
	sort.Slice(items, func(a, b int) bool { return items[a].item < items[b].item })
	var runs []*run
	lastBatch := -1
	for _, i := range items {
		_, r, _ := p.ss.locate(i.item)
		c, b, j, err := o.s.locateBatch(r)
		if err != nil {
			finish(i, nil, err)
			continue
		}
		sp, remote := o.s.stream.imageSpan(b, c, j)
		if !remote {
			finish(i, append([]byte(nil), c.image.Value(j)...), nil)
			continue
		}
		if n := len(runs); n > 0 && b == lastBatch && runs[n-1].sp.off+runs[n-1].sp.n == sp.off {
			ru := runs[n-1]
			ru.sp.n += sp.n
			ru.items, ru.spans = append(ru.items, i), append(ru.spans, sp)
			continue
		}
		runs = append(runs, &run{sp: sp, items: []wanted{i}, spans: []span{sp}})
		lastBatch = b
	}
	var wg sync.WaitGroup
	for _, ru := range runs {
		select {
		case p.sem <- struct{}{}:
		case <-p.ctx.Done():
			for _, i := range ru.items {
				finish(i, nil, p.ctx.Err())
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-p.sem }()
			buf, err := o.s.fetchImage(nil, ru.sp)
			for n, i := range ru.items {
				if err != nil {
					finish(i, nil, err)
					continue
				}
				sp := ru.spans[n]
				finish(i, buf[sp.off-ru.sp.off:sp.off-ru.sp.off+sp.n], nil)
			}
		}()
	}
	wg.Wait()
}

// close drops what was fetched ahead and waits for the fetches under way,
// which the cancelled context ends.
func (p *prefetcher) close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	p.mu.Lock()
	p.pend = map[int]*pendingImage{}
	p.mu.Unlock()
}
