package testkit

import (
	"bytes"
	"context"
	"strings"
	"sync"
)

// CancelOn is a log writer that calls cancel once what has been written
// contains marker: an interruption at a known point of a run, not after a
// guessed delay.
type CancelOn struct {
	Marker string
	Cancel context.CancelFunc

	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *CancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.Marker) {
		c.Cancel()
	}
	return len(p), nil
}

// String is everything written so far.
func (c *CancelOn) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}
