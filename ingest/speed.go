package ingest

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// errTooSlow is the cause a speedWatch cancels a request with.
var errTooSlow = errors.New("transfer slower than the minimum rate")

// speedWatch aborts a transfer whose rate stays below limit bytes/s over a
// whole window, as curl's --speed-limit and --speed-time do: at the end of
// each window it compares the bytes read in it with limit·window. It
// counts the bytes its reader passes on.
type speedWatch struct {
	limit  int64
	window time.Duration
	abort  func()
	n      atomic.Int64 // bytes read so far

	mu      sync.Mutex
	timer   *time.Timer
	start   time.Time // of the current window
	mark    int64     // n at start
	stopped bool
}

// watchSpeed starts the first window now. A limit or window <= 0 watches
// nothing. Stop must be called when the transfer ends.
func watchSpeed(limit int64, window time.Duration, abort func()) *speedWatch {
	w := &speedWatch{limit: limit, window: window, abort: abort, start: time.Now()}
	if limit > 0 && window > 0 {
		w.timer = time.AfterFunc(window, w.check)
	}
	return w
}

func (w *speedWatch) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	now, n := time.Now(), w.n.Load()
	elapsed := now.Sub(w.start)
	// A timer that fires half a window late means this process was not
	// running: bytes may have arrived that nobody has read yet, so the
	// window says nothing about the peer and the next one decides.
	late := elapsed > w.window*3/2
	if !late && float64(n-w.mark) < float64(w.limit)*elapsed.Seconds() {
		w.stopped = true
		w.abort()
		return
	}
	w.start, w.mark = now, n
	w.timer.Reset(w.window)
}

// Stop ends the watch; it is safe to call more than once.
func (w *speedWatch) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
	}
}

// Reader returns r counting into the watch.
func (w *speedWatch) Reader(r io.Reader) io.Reader { return countingReader{r: r, n: &w.n} }

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
