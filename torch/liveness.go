package torch

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HeartbeatInterval is how often each rank of a Group bumps its counter in
// the store. A failed collective reads the counters, waits
// LostAfterBeats intervals and reads them again: the ranks whose counter
// did not move are reported lost. $WEAKSUP_DIST_HEARTBEAT (a Go duration)
// overrides it.
var HeartbeatInterval = time.Second

// LostAfterBeats is the number of missed heartbeats that make a rank lost.
const LostAfterBeats = 3

// PeerLostError is the error of a collective that failed because ranks
// died or stopped: their heartbeats stopped, or the store they host stopped
// answering.
type PeerLostError struct {
	Op    string // the collective, e.g. "allreduce"
	Ranks []int  // the ranks that stopped answering
	World int
	Why   string // how they were found lost
	Err   error  // the collective's own error
}

func (e *PeerLostError) Error() string {
	rs := make([]string, len(e.Ranks))
	for i, r := range e.Ranks {
		rs[i] = strconv.Itoa(r)
	}
	noun := "rank"
	if len(rs) > 1 {
		noun = "ranks"
	}
	return fmt.Sprintf("%s: lost %s %s of %d (%s): %v", e.Op, noun, strings.Join(rs, ", "), e.World, e.Why, e.Err)
}

func (e *PeerLostError) Unwrap() error { return e.Err }

// liveness keeps this rank's heartbeat going and finds the lost ranks
// after a failure. It has a store client of its own, so a heartbeat never
// waits behind the group's rendezvous.
type liveness struct {
	st        *Store
	addr      string
	rank      int
	world     int
	storeRank int
	interval  time.Duration

	once sync.Once
	quit chan struct{}
	done chan struct{}
}

func heartbeatKey(rank int) string { return "weaksup/heartbeat/" + strconv.Itoa(rank) }

func startLiveness(store *Store, rank, world, storeRank int) (*liveness, error) {
	interval := HeartbeatInterval
	if v := os.Getenv("WEAKSUP_DIST_HEARTBEAT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("check $WEAKSUP_DIST_HEARTBEAT %q: want a positive duration such as 1s", v)
		}
		interval = d
	}
	st, err := NewStore(StoreOptions{Host: store.host, Port: store.port, Prefix: store.prefix, Timeout: 10 * interval})
	if err != nil {
		return nil, fmt.Errorf("connect heartbeat to the store at %s: %w", store.Addr(), err)
	}
	l := &liveness{st: st, addr: store.Addr(), rank: rank, world: world, storeRank: storeRank, interval: interval,
		quit: make(chan struct{}), done: make(chan struct{})}
	if _, err := st.Add(heartbeatKey(rank), 1); err != nil {
		st.Close()
		return nil, fmt.Errorf("start heartbeat: %w", err)
	}
	go l.beat()
	return l, nil
}

func (l *liveness) beat() {
	defer close(l.done)
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-t.C:
			// A store that stopped answering is found by diagnose.
			l.st.Add(heartbeatKey(l.rank), 1) //nolint:errcheck
		}
	}
}

func (l *liveness) stop() {
	if l == nil {
		return
	}
	l.once.Do(func() {
		close(l.quit)
		<-l.done
		l.st.Close()
	})
}

// counters reads every rank's heartbeat counter.
func (l *liveness) counters() ([]int64, error) {
	c := make([]int64, l.world)
	for r := range c {
		v, err := l.st.Add(heartbeatKey(r), 0)
		if err != nil {
			return nil, err
		}
		c[r] = v
	}
	return c, nil
}

// diagnose returns err as a *PeerLostError when ranks stopped beating (or
// the store's host went away), else err wrapped with op.
func (l *liveness) diagnose(op string, err error) error {
	var lost *PeerLostError
	if errors.As(err, &lost) {
		return err
	}
	storeLost := func(serr error) error {
		if l.storeRank >= 0 && l.storeRank != l.rank {
			return &PeerLostError{Op: op, Ranks: []int{l.storeRank}, World: l.world,
				Why: fmt.Sprintf("the store it hosts at %s stopped answering: %v", l.addr, serr), Err: err}
		}
		return fmt.Errorf("%s: the rendezvous store at %s stopped answering (%v): %w", op, l.addr, serr, err)
	}
	before, serr := l.counters()
	if serr != nil {
		return storeLost(serr)
	}
	wait := LostAfterBeats * l.interval
	time.Sleep(wait)
	after, serr := l.counters()
	if serr != nil {
		return storeLost(serr)
	}
	var ranks []int
	for r := range after {
		if r != l.rank && after[r] == before[r] {
			ranks = append(ranks, r)
		}
	}
	if len(ranks) == 0 {
		return fmt.Errorf("%s (every rank is alive): %w", op, err)
	}
	return &PeerLostError{Op: op, Ranks: ranks, World: l.world,
		Why: fmt.Sprintf("no heartbeat for %v: the process died, stopped or never started", wait), Err: err}
}
