package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPlainLines(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, 100, "ingest")
	clock := b.start
	b.now = func() time.Time { return clock }
	b.Add(10) // less than 5 s since start: no line
	if buf.Len() != 0 {
		t.Fatalf("wrote %q before the first interval", buf.String())
	}
	clock = clock.Add(6 * time.Second)
	b.Inc("ok")
	b.Inc("ok")
	b.Inc("failed")
	b.Add(20)
	got := buf.String()
	want := "ingest 10/100 (10.0%) 1.67/s eta 54s ok=1\n"
	if got != want {
		t.Errorf("first line = %q, want %q", got, want)
	}
	clock = clock.Add(time.Second)
	b.SetStatus("loss 2.30")
	b.Finish()
	b.Finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines %q, want 2 (one periodic, one at Finish)", len(lines), lines)
	}
	if want := "ingest 30/100 (30.0%) 4.29/s eta 16s failed=1 ok=2 loss 2.30"; lines[1] != want {
		t.Errorf("final line = %q, want %q", lines[1], want)
	}
}

func TestUnknownTotal(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, -1, "scan")
	b.Add(5)
	b.Finish()
	if !strings.HasPrefix(buf.String(), "scan 5 ") || !strings.Contains(buf.String(), " in ") {
		t.Errorf("line = %q, want count without total and elapsed time", buf.String())
	}
}

func TestConcurrentAdds(t *testing.T) {
	b := New(nil, 1000, "x")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 125; j++ {
				b.Add(1)
				b.Inc("ok")
			}
		}()
	}
	wg.Wait()
	b.Finish()
	if b.done != 1000 || b.counters["ok"] != 1000 {
		t.Errorf("done=%d ok=%d, want 1000 1000", b.done, b.counters["ok"])
	}
}
