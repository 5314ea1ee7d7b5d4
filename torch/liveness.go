package torch

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HeartbeatInterval is how often each rank of a Group bumps its counter in
// the store and reads the counters it watches. $WEAKSUP_DIST_HEARTBEAT (a
// Go duration) overrides it.
var HeartbeatInterval = time.Second

// LostAfterBeats is the number of heartbeat intervals without a beat (or
// without an answer from the store) after which a rank is lost and the
// group is aborted.
const LostAfterBeats = 3

// PeerLostError is the error of a collective that failed because ranks
// died, stopped or were cut off: their heartbeats stopped, or the store
// they host stopped answering.
type PeerLostError struct {
	Op    string // the collective, e.g. "allreduce"
	Ranks []int  // the ranks that stopped answering
	Hosts []Peer // where they ran, by position in Ranks (empty when unknown)
	World int
	Why   string // how they were found lost
	Err   error  // the collective's own error
}

func (e *PeerLostError) Error() string {
	rs := make([]string, len(e.Ranks))
	var hosts []string
	for i, r := range e.Ranks {
		rs[i] = strconv.Itoa(r)
		if i < len(e.Hosts) && (e.Hosts[i].Host != "" || e.Hosts[i].Addr != "") && !slices.Contains(hosts, e.Hosts[i].String()) {
			hosts = append(hosts, e.Hosts[i].String())
		}
	}
	noun := "rank"
	if len(rs) > 1 {
		noun = "ranks"
	}
	on := ""
	if len(hosts) > 0 {
		on = " on " + strings.Join(hosts, ", ")
	}
	return fmt.Sprintf("%s: lost %s %s of %d%s (%s): %v", e.Op, noun, strings.Join(rs, ", "), e.World, on, e.Why, e.Err)
}

func (e *PeerLostError) Unwrap() error { return e.Err }

// StoreLostError is the error of a collective of a rank that lost the
// rendezvous store a launcher hosts (no rank of the group hosts it).
type StoreLostError struct {
	Op   string
	Addr string        // the store's host:port
	For  time.Duration // how long it had not answered
	Why  string        // its last error, if any
	Err  error
}

func (e *StoreLostError) Error() string {
	why := ""
	if e.Why != "" {
		why = ": " + e.Why
	}
	return fmt.Sprintf("%s: lost the rendezvous store at %s (hosted by the launcher): no answer for %v%s: %v",
		e.Op, e.Addr, e.For.Round(100*time.Millisecond), why, e.Err)
}

func (e *StoreLostError) Unwrap() error { return e.Err }

// liveness keeps this rank's heartbeat going and watches the others': rank
// 0 watches every rank, the others watch rank 0 and the verdicts rank 0
// publishes. A rank whose counter stops moving for LostAfterBeats
// intervals, or a store that stops answering for as long, is lost: the
// watcher aborts the group (onLost), so a collective blocked on the lost
// peer ends then rather than at the collective timeout, and publishes the
// verdict so that every rank ends with the same one. It has a store client
// of its own, whose every operation is bounded by the same window.
type liveness struct {
	st        *Store
	addr      string
	rank      int
	world     int
	storeRank int
	interval  time.Duration
	window    time.Duration
	peers     []Peer // by rank; nil when unknown

	mu     sync.Mutex
	lost   *verdict  // set once
	lastOK time.Time // the last round of store operations that all answered
	// waiting is since when a store operation has gone unanswered (zero:
	// none); after an error it stays set, as the store said nothing
	// useful since.
	waiting time.Time
	lastErr string        // the store's last error
	watched map[int]*seen // the ranks this one watches

	abortMu sync.Mutex   // held while onLost runs, so that detach waits for it
	onLost  func(string) // aborts the group

	quit      chan struct{}
	beatDone  chan struct{}
	judgeDone chan struct{}
	once      sync.Once
}

// verdict is what the watchers found: the lost ranks (or the store), why,
// and which rank found it.
type verdict struct {
	Ranks []int  `json:"ranks"`
	Store bool   `json:"store,omitempty"` // the launcher's store stopped answering
	For   int64  `json:"for_ns"`
	Why   string `json:"why"`
	By    int    `json:"by"`
}

// startGrace is how many windows a rank that has not beaten yet gets.
const startGrace = 5

// seen is the last value of a watched rank's counter and when it moved.
type seen struct {
	count int64
	moved time.Time
}

// Store keys of the heartbeats and verdicts: the verdict, whether there
// is one, and how many ranks read it.
const (
	verdictKey      = "weaksup/lost"
	verdictCountKey = "weaksup/lost/count"
	verdictSeenKey  = "weaksup/lost/seen"
)

func heartbeatKey(rank int) string { return "weaksup/heartbeat/" + strconv.Itoa(rank) }

// heartbeatInterval is HeartbeatInterval or $WEAKSUP_DIST_HEARTBEAT.
func heartbeatInterval() (time.Duration, error) {
	if v := os.Getenv("WEAKSUP_DIST_HEARTBEAT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("check $WEAKSUP_DIST_HEARTBEAT %q: want a positive duration such as 1s", v)
		}
		return d, nil
	}
	return HeartbeatInterval, nil
}

func startLiveness(store *Store, rank, world, storeRank int, peers []Peer) (*liveness, error) {
	interval, err := heartbeatInterval()
	if err != nil {
		return nil, err
	}
	window := LostAfterBeats * interval
	// c10d's store client gives up connecting at once under a timeout of
	// less than a second; the judge keeps its own clock anyway.
	st, err := NewStore(StoreOptions{Host: store.host, Port: store.port, Prefix: store.prefix, Timeout: max(window, 2*time.Second)})
	if err != nil {
		return nil, fmt.Errorf("connect heartbeat to the store at %s: %w", store.Addr(), err)
	}
	l := &liveness{st: st, addr: store.Addr(), rank: rank, world: world, storeRank: storeRank,
		interval: interval, window: window, peers: peers, watched: map[int]*seen{},
		quit: make(chan struct{}), beatDone: make(chan struct{}), judgeDone: make(chan struct{})}
	if _, err := st.Add(heartbeatKey(rank), 1); err != nil {
		st.Close()
		return nil, fmt.Errorf("start heartbeat: %w", err)
	}
	now := time.Now()
	l.lastOK = now
	for r := range world {
		if r != rank && (rank == 0 || r == 0) {
			l.watched[r] = &seen{moved: now}
		}
	}
	go l.beat()
	go l.judge()
	return l, nil
}

// beat bumps this rank's counter, reads the published verdicts and the
// watched ranks' counters, once per interval. After a store error it stops:
// the client may be out of step with the store, and the judge finds the
// store lost when the window passes.
func (l *liveness) beat() {
	defer close(l.beatDone)
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-t.C:
		}
		if err := l.round(); err != nil {
			<-l.quit
			return
		}
	}
}

// ask runs one store operation, recording how long it waits for the store.
func (l *liveness) ask(f func() error) error {
	l.mu.Lock()
	l.waiting = time.Now()
	l.mu.Unlock()
	err := f()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.lastErr = err.Error()
		return err
	}
	l.waiting = time.Time{}
	return nil
}

func (l *liveness) round() error {
	if err := l.ask(func() error { _, err := l.st.Add(heartbeatKey(l.rank), 1); return err }); err != nil {
		return err
	}
	var published int64
	if err := l.ask(func() (err error) { published, err = l.st.Add(verdictCountKey, 0); return err }); err != nil {
		return err
	}
	if published > 0 {
		var raw []byte
		if err := l.ask(func() (err error) { raw, err = l.st.Get(verdictKey); return err }); err != nil {
			return err
		}
		var v verdict
		if err := json.Unmarshal(raw, &v); err == nil {
			if l.verdictNow() == nil {
				l.st.Add(verdictSeenKey, 1) //nolint:errcheck
			}
			l.decide(&v)
		}
	}
	counts := map[int]int64{}
	for r := range l.watched {
		var c int64
		if err := l.ask(func() (err error) { c, err = l.st.Add(heartbeatKey(r), 0); return err }); err != nil {
			return err
		}
		counts[r] = c
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastOK = now
	for r, c := range counts {
		if s := l.watched[r]; c != s.count {
			s.count, s.moved = c, now
		}
	}
	return nil
}

// judge checks, several times an interval, whether the store or a watched
// rank has been silent for the window. A gap in its own ticks longer than
// half the window means this process did not run (stopped, or starved of
// CPU): it then moves every clock forward by the gap instead of blaming
// the others.
func (l *liveness) judge() {
	defer close(l.judgeDone)
	tick := max(l.interval/4, 5*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-l.quit:
			return
		case now := <-t.C:
			gap := now.Sub(last)
			last = now
			l.mu.Lock()
			if gap > l.window/2 {
				l.lastOK = l.lastOK.Add(gap)
				if !l.waiting.IsZero() {
					l.waiting = l.waiting.Add(gap)
				}
				for _, s := range l.watched {
					s.moved = s.moved.Add(gap)
				}
			}
			v := l.silent(now)
			l.mu.Unlock()
			if v != nil {
				l.decide(v)
			}
		}
	}
}

// silent returns the verdict on what has been silent for the window, or
// nil. It holds l.mu.
func (l *liveness) silent(now time.Time) *verdict {
	if l.lost != nil {
		return nil
	}
	// The store is silent when an operation has waited the window for it
	// (or failed that long ago): not merely when this rank's own rounds
	// were slow to start.
	if quiet := now.Sub(l.waiting); !l.waiting.IsZero() && quiet > l.window && l.storeRank != l.rank {
		why := fmt.Sprintf("no answer from the rendezvous store at %s for %v", l.addr, quiet.Round(100*time.Millisecond))
		if l.lastErr != "" {
			why += " (" + l.lastErr + ")"
		}
		if l.storeRank >= 0 {
			return &verdict{Ranks: []int{l.storeRank}, For: int64(quiet), By: l.rank,
				Why: "it hosts the store: " + why + "; the process died, stopped, or this host was cut off from it"}
		}
		return &verdict{Store: true, For: int64(quiet), By: l.rank, Why: l.lastErr}
	}
	var ranks []int
	var quiet time.Duration
	for r, s := range l.watched {
		// A rank that has not beaten yet may still be starting (after
		// Join's exchange, only just): it gets startGrace windows.
		limit := l.window
		if s.count == 0 {
			limit *= startGrace
		}
		// Silent over the rounds that read its counter: what happened
		// since the last round that answered is not known (and, beyond
		// the window, is the store's silence).
		if d := l.lastOK.Sub(s.moved); d > limit {
			ranks = append(ranks, r)
			quiet = max(quiet, d)
		}
	}
	if len(ranks) == 0 {
		return nil
	}
	slices.Sort(ranks)
	return &verdict{Ranks: ranks, For: int64(quiet), By: l.rank,
		Why: fmt.Sprintf("no heartbeat for %v: the process died or stopped, or its host was cut off", quiet.Round(100*time.Millisecond))}
}

// decide records the first verdict, aborts the group and, for a verdict of
// this rank's own finding while the store answers, publishes it.
func (l *liveness) decide(v *verdict) {
	l.mu.Lock()
	if l.lost != nil {
		l.mu.Unlock()
		return
	}
	l.lost = v
	l.mu.Unlock()
	l.abortGroup()
	if v.By == l.rank && !v.Store && !slices.Contains(v.Ranks, l.storeRank) {
		// Bounded by the heartbeat store's timeout (the window).
		if b, err := json.Marshal(v); err == nil {
			if l.st.Set(verdictKey, b) == nil {
				l.st.Add(verdictCountKey, 1) //nolint:errcheck
			}
		}
	}
}

// attach sets what aborts the group; a verdict already reached aborts it
// at once.
func (l *liveness) attach(onLost func(string)) {
	l.abortMu.Lock()
	l.onLost = onLost
	l.abortMu.Unlock()
	if l.verdictNow() != nil {
		l.abortGroup()
	}
}

// detach forgets onLost, once no call of it runs.
func (l *liveness) detach() {
	l.abortMu.Lock()
	l.onLost = nil
	l.abortMu.Unlock()
}

func (l *liveness) abortGroup() {
	l.abortMu.Lock()
	defer l.abortMu.Unlock()
	if l.onLost != nil {
		l.onLost(l.verdictNow().short())
	}
}

// short names what was lost, for the collectives' own errors.
func (v *verdict) short() string {
	if v.Store {
		return "lost the rendezvous store"
	}
	rs := make([]string, len(v.Ranks))
	for i, r := range v.Ranks {
		rs[i] = strconv.Itoa(r)
	}
	if len(rs) == 1 {
		return "lost rank " + rs[0]
	}
	return "lost ranks " + strings.Join(rs, ", ")
}

// verdictNow returns the verdict reached so far, or nil.
func (l *liveness) verdictNow() *verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// errorOf is the error of collective op that failed with err after the
// verdict (which must have been reached).
func (l *liveness) errorOf(op string, err error) error {
	v := l.verdictNow()
	if op == "" {
		op = "process group"
	}
	if err == nil {
		err = errors.New("aborted")
	}
	if v.Store {
		return &StoreLostError{Op: op, Addr: l.addr, For: time.Duration(v.For), Why: v.Why, Err: err}
	}
	why := v.Why
	if v.By != l.rank {
		why += fmt.Sprintf("; found by rank %d", v.By)
	}
	if slices.Contains(v.Ranks, l.rank) {
		why = "this rank was found lost: " + why
	}
	e := &PeerLostError{Op: op, Ranks: v.Ranks, World: l.world, Why: why, Err: err}
	for _, r := range v.Ranks {
		if r < len(l.peers) {
			e.Hosts = append(e.Hosts, l.peers[r])
		} else {
			e.Hosts = append(e.Hosts, Peer{})
		}
	}
	return e
}

// diagnose returns the error of failed collective op: a *PeerLostError (or
// *StoreLostError) when the watchers find a rank (or the store) lost
// within the window, else err wrapped with op.
func (l *liveness) diagnose(op string, err error) error {
	var lost *PeerLostError
	var store *StoreLostError
	if errors.As(err, &lost) || errors.As(err, &store) {
		return err
	}
	// A peer that died makes the collective fail at once; the watchers
	// need up to the window, and one more round to read a verdict another
	// rank published.
	deadline := time.Now().Add(l.window + 2*l.interval + 100*time.Millisecond)
	for {
		if l.verdictNow() != nil {
			return l.errorOf(op, err)
		}
		if time.Now().After(deadline) {
			if v := l.neverBeaten(); v != nil {
				l.decide(v)
				continue
			}
			return fmt.Errorf("%s (every rank is alive): %w", op, err)
		}
		time.Sleep(max(l.interval/10, time.Millisecond))
	}
}

// neverBeaten returns a verdict on the watched ranks that have not beaten
// since this one started, or nil: after a failed collective they are not
// merely slow to start.
func (l *liveness) neverBeaten() *verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ranks []int
	for r, s := range l.watched {
		if s.count == 0 && time.Since(s.moved) > l.window {
			ranks = append(ranks, r)
		}
	}
	if len(ranks) == 0 {
		return nil
	}
	slices.Sort(ranks)
	return &verdict{Ranks: ranks, By: l.rank,
		Why: "no heartbeat since this rank joined: the process never started, or cannot reach the store"}
}

// lingerForVerdict keeps a rank that hosts the store, and published a
// verdict, from leaving before the other ranks read it (up to two
// intervals): once it leaves, the store goes with it, and they would only
// find that.
func (l *liveness) lingerForVerdict() {
	v := l.verdictNow()
	if v == nil || v.By != l.rank || l.storeRank != l.rank {
		return
	}
	want := int64(l.world - 1 - len(v.Ranks))
	deadline := time.Now().Add(2 * l.interval)
	for time.Now().Before(deadline) {
		if n, err := l.st.Add(verdictSeenKey, 0); err != nil || n >= want {
			return
		}
		time.Sleep(l.interval / 20)
	}
}

// stop ends the heartbeat. A beat goroutine blocked in the store is given
// the store's own timeout to return (none when the store was found lost);
// if it does not, its client is left open rather than freed under it.
func (l *liveness) stop() {
	if l == nil {
		return
	}
	l.once.Do(func() {
		l.detach()
		l.lingerForVerdict()
		close(l.quit)
		<-l.judgeDone
		wait := l.window + l.interval
		if v := l.verdictNow(); v != nil && (v.Store || slices.Contains(v.Ranks, l.storeRank)) {
			wait = 0
		}
		select {
		case <-l.beatDone:
			l.st.Close()
		case <-time.After(wait):
		}
	})
}
