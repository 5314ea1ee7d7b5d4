package progress

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Bar reports progress of one piece of work.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	total    int64 // -1 when unknown
	done     int64
	counters map[string]int64
	status   string
	start    time.Time
	last     time.Time
	every    time.Duration
	tty      bool
	finished bool
	now      func() time.Time
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// New starts a progress report on w for total units of work (-1 when
// unknown). On a terminal the bar redraws at most 10 times a second; on
// anything else a plain line is written every 5 seconds and at Finish.
// A nil writer discards everything.
func New(w io.Writer, total int64, label string) *Bar {
	if w == nil {
		w = io.Discard
	}
	b := &Bar{w: w, label: label, total: total, counters: map[string]int64{}, now: time.Now}
	b.tty = IsTerminal(w)
	b.every = 5 * time.Second
	if b.tty {
		b.every = 100 * time.Millisecond
	}
	b.start = b.now()
	b.last = b.start
	return b
}

// SetTotal changes the amount of work, for work whose size is learned late.
func (b *Bar) SetTotal(total int64) {
	b.mu.Lock()
	b.total = total
	b.mu.Unlock()
}

// Add records n more units of work done.
func (b *Bar) Add(n int64) {
	b.mu.Lock()
	b.done += n
	b.maybeDraw()
	b.mu.Unlock()
}

// Inc increments a named counter (e.g. "ok", "failed") by one.
func (b *Bar) Inc(name string) { b.AddCounter(name, 1) }

// AddCounter adds n to a named counter.
func (b *Bar) AddCounter(name string, n int64) {
	b.mu.Lock()
	b.counters[name] += n
	b.maybeDraw()
	b.mu.Unlock()
}

// SetStatus sets a free-form status shown after the counters (e.g. "loss 2.31 lr 0.1").
func (b *Bar) SetStatus(s string) {
	b.mu.Lock()
	b.status = s
	b.maybeDraw()
	b.mu.Unlock()
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	b.draw()
	if b.tty {
		fmt.Fprintln(b.w)
	}
}

func (b *Bar) maybeDraw() {
	if b.finished {
		return
	}
	now := b.now()
	if now.Sub(b.last) < b.every {
		return
	}
	b.last = now
	b.draw()
}

func (b *Bar) draw() {
	line := b.line(b.now())
	if b.tty {
		fmt.Fprintf(b.w, "\r\x1b[K%s", line)
		return
	}
	fmt.Fprintln(b.w, line)
}

// line renders the current state.
func (b *Bar) line(now time.Time) string {
	elapsed := now.Sub(b.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(b.done) / s
	}
	var sb strings.Builder
	sb.WriteString(b.label)
	if b.total > 0 {
		frac := float64(b.done) / float64(b.total)
		if frac > 1 {
			frac = 1
		}
		if b.tty {
			const width = 24
			n := int(frac * width)
			sb.WriteString(" [" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]")
		}
		fmt.Fprintf(&sb, " %d/%d (%.1f%%)", b.done, b.total, 100*frac)
	} else {
		fmt.Fprintf(&sb, " %d", b.done)
	}
	fmt.Fprintf(&sb, " %s/s", humanRate(rate))
	if b.total > 0 && rate > 0 && b.done < b.total {
		eta := time.Duration(float64(b.total-b.done) / rate * float64(time.Second))
		fmt.Fprintf(&sb, " eta %s", eta.Round(time.Second))
	} else {
		fmt.Fprintf(&sb, " in %s", elapsed.Round(100*time.Millisecond))
	}
	names := make([]string, 0, len(b.counters))
	for k := range b.counters {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&sb, " %s=%d", k, b.counters[k])
	}
	if b.status != "" {
		sb.WriteString(" " + b.status)
	}
	return sb.String()
}

func humanRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e4:
		return fmt.Sprintf("%.1fk", r/1e3)
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	default:
		return fmt.Sprintf("%.2f", r)
	}
}
