package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gocloud.dev/gcerrors"
)

// retry runs f until it succeeds, fails for good, or the attempts run out.
// Each attempt runs under a watchdog: a context that is cancelled when the
// attempt makes no progress (f calls wd.touch as bytes move) for the stall
// timeout, so that no request can hang. Between attempts it backs off
// exponentially with full jitter. The error it returns names op and url.
func (d *Dir) retry(ctx context.Context, op, url string, f func(ctx context.Context, wd *watchdog) error) error {
	attempts := d.opts.Attempts
	if d.loc.Scheme == Local {
		attempts = 1 // a local file system's errors do not go away by waiting
	}
	for attempt := 1; ; attempt++ {
		actx, wd := newWatchdog(ctx, d.opts.StallTimeout)
		d.stats.requests.Add(1)
		err := f(actx, wd)
		stalled := wd.stalled()
		wd.stop()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return opError(op, url, fmt.Errorf("%w (attempt %d: %w)", context.Cause(ctx), attempt, err))
		}
		if stalled {
			err = fmt.Errorf("%w: no progress for %v: %w", ErrStalled, d.opts.StallTimeout, err)
		}
		if !transient(err) {
			return opError(op, url, err)
		}
		if attempt >= attempts {
			return opError(op, url, fmt.Errorf("gave up after %d attempts: %w", attempt, err))
		}
		d.stats.retries.Add(1)
		if serr := sleep(ctx, d.backoff(attempt)); serr != nil {
			return opError(op, url, fmt.Errorf("%w (attempt %d: %w)", serr, attempt, err))
		}
	}
}

// backoff is the wait after the attempt-th failure: uniform in
// [0, min(MaxBackoff, InitialBackoff·2^(attempt-1))].
func (d *Dir) backoff(attempt int) time.Duration {
	ceil := d.opts.InitialBackoff << min(attempt-1, 30)
	if ceil <= 0 || ceil > d.opts.MaxBackoff {
		ceil = d.opts.MaxBackoff
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// transient reports whether an attempt that failed with err may succeed
// when tried again: server errors, throttling, timeouts, dropped
// connections, truncated or stalled bodies. Missing objects, refused
// requests and malformed ones are answers, not accidents.
func transient(err error) bool {
	switch {
	case errors.Is(err, ErrShortRead), errors.Is(err, ErrStalled), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	switch gcerrors.Code(err) {
	case gcerrors.NotFound, gcerrors.PermissionDenied, gcerrors.InvalidArgument,
		gcerrors.FailedPrecondition, gcerrors.AlreadyExists, gcerrors.Unimplemented:
		return false
	}
	switch s := httpStatus(err); {
	case s == http.StatusRequestTimeout, s == http.StatusTooManyRequests, s >= 500:
		return true
	case s >= 400:
		return false
	}
	switch apiCode(err) {
	case "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeTooSkewed":
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	// Whatever else an SDK reports (its own retries exhausted, a body it
	// could not parse) is worth another bounded try.
	return true
}

// watchdog cancels an attempt's context when no progress is reported for
// its timeout. touch is cheap and safe from any goroutine.
type watchdog struct {
	start   time.Time
	last    atomic.Int64 // time.Since(start) at the last progress, ns
	timeout time.Duration
	cancel  context.CancelCauseFunc
	fired   atomic.Bool

	mu    sync.Mutex
	timer *time.Timer
	done  bool
}

var errStallCause = errors.New("no progress within the stall timeout")

func newWatchdog(ctx context.Context, timeout time.Duration) (context.Context, *watchdog) {
	actx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{start: time.Now(), timeout: timeout, cancel: cancel}
	w.mu.Lock()
	w.timer = time.AfterFunc(timeout, w.check)
	w.mu.Unlock()
	return actx, w
}

func (w *watchdog) touch() { w.last.Store(int64(time.Since(w.start))) }

func (w *watchdog) check() {
	idle := time.Since(w.start) - time.Duration(w.last.Load())
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	if idle >= w.timeout {
		w.fired.Store(true)
		w.cancel(errStallCause)
		return
	}
	w.timer.Reset(w.timeout - idle)
}

// abort cancels the attempt (a failed upload is abandoned this way).
func (w *watchdog) abort(err error) { w.cancel(err) }

func (w *watchdog) stalled() bool { return w.fired.Load() }

func (w *watchdog) stop() {
	w.mu.Lock()
	w.done = true
	w.timer.Stop()
	w.mu.Unlock()
	w.cancel(context.Canceled)
}

// progressReader reports every read to a watchdog and counts bytes.
type progressReader struct {
	r  io.Reader
	wd *watchdog
	n  *atomic.Int64
}

func (p progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.wd.touch()
		p.n.Add(int64(n))
	}
	return n, err
}
