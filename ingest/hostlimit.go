package ingest

import (
	"context"
	"sync"
	"time"
)

// hostLimiter bounds concurrent requests per host and, optionally, spaces
// request starts to one host by a minimum interval. Idle hosts are
// forgotten, so memory follows the hosts in flight, not all hosts seen.
type hostLimiter struct {
	per      int
	interval time.Duration
	mu       sync.Mutex
	hosts    map[string]*hostSlot
	unrefs   int // since the last sweep
}

type hostSlot struct {
	sem  chan struct{}
	refs int       // goroutines holding or waiting for the slot
	next time.Time // earliest start of the next request
}

func newHostLimiter(per int, interval time.Duration) *hostLimiter {
	return &hostLimiter{per: per, interval: interval, hosts: map[string]*hostSlot{}}
}

// acquire waits for a free request slot for host and for its interval.
// Every successful acquire needs a release.
func (l *hostLimiter) acquire(ctx context.Context, host string) error {
	l.mu.Lock()
	h := l.hosts[host]
	if h == nil {
		h = &hostSlot{sem: make(chan struct{}, l.per)}
		l.hosts[host] = h
	}
	h.refs++
	l.mu.Unlock()
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		l.unref(host, h)
		return ctx.Err()
	}
	if l.interval > 0 {
		l.mu.Lock()
		now := time.Now()
		at := h.next
		if at.Before(now) {
			at = now
		}
		h.next = at.Add(l.interval)
		l.mu.Unlock()
		if d := at.Sub(now); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				<-h.sem
				l.unref(host, h)
				return ctx.Err()
			}
		}
	}
	return nil
}

func (l *hostLimiter) release(host string) {
	l.mu.Lock()
	h := l.hosts[host]
	l.mu.Unlock()
	<-h.sem
	l.unref(host, h)
}

func (l *hostLimiter) unref(host string, h *hostSlot) {
	l.mu.Lock()
	h.refs--
	now := time.Now()
	if h.refs == 0 && !h.next.After(now) {
		delete(l.hosts, host)
	}
	// Hosts left idle while their interval ran are dropped now and then.
	if l.unrefs++; l.unrefs >= 4096 {
		l.unrefs = 0
		for name, s := range l.hosts {
			if s.refs == 0 && !s.next.After(now) {
				delete(l.hosts, name)
			}
		}
	}
	l.mu.Unlock()
}
