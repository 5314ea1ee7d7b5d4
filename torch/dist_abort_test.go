package torch

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests below stop a rank's heartbeat while its process (here: its
// goroutine) keeps its Gloo connections open and never joins the
// collective, as a rank that is stopped or cut off does: no connection
// fails, and only the watcher can end the others' wait. The collective
// timeout is long (abortTimeout); every wait must end within a few
// heartbeat windows, far inside it.

const abortTimeout = 2 * time.Minute

// fastHeartbeat makes the heartbeat interval short for one test.
func fastHeartbeat(t *testing.T, d time.Duration) {
	t.Helper()
	old := HeartbeatInterval
	HeartbeatInterval = d
	t.Cleanup(func() { HeartbeatInterval = old })
}

// silence stops g's heartbeat as if its process had stopped.
func silence(g *Group) { g.live.stop() }

// endsWithin runs fn and fails the test unless it returns within limit (a
// bound on hanging, far above what it needs).
func endsWithin(t *testing.T, limit time.Duration, fn func() error) (took time.Duration, err error) {
	t.Helper()
	done := make(chan error, 1)
	t0 := time.Now()
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return time.Since(t0), err
	case <-time.After(limit):
		t.Fatalf("still blocked after %v (the collective timeout is %v)", limit, abortTimeout)
		return 0, nil
	}
}

func wantLost(t *testing.T, err error, ranks ...int) *PeerLostError {
	t.Helper()
	var lost *PeerLostError
	if !errors.As(err, &lost) || !slices.Equal(lost.Ranks, ranks) {
		t.Fatalf("error %v: want a *PeerLostError naming ranks %v", err, ranks)
	}
	if !strings.Contains(err.Error(), "aborted") {
		t.Fatalf("error %v: want the collective's own error, aborted", err)
	}
	return lost
}

// TestAbortEndsBlockedCollectives: rank 1 stops beating and never joins;
// rank 0's allreduce, broadcast, barrier and gather each end with an error
// naming rank 1, within a few windows of the heartbeat.
func TestAbortEndsBlockedCollectives(t *testing.T) {
	fastHeartbeat(t, 250*time.Millisecond)
	for _, tc := range []struct {
		name string
		op   func(g *Group) error
	}{
		{"allreduce", func(g *Group) error {
			x := Ones(Float32, CPU, 1000)
			defer x.Close()
			return g.AllReduce([]*Tensor{x}, DistSum)
		}},
		{"broadcast", func(g *Group) error {
			x := Ones(Float32, CPU, 1000)
			defer x.Close()
			return g.Broadcast([]*Tensor{x}, 1, 1<<20)
		}},
		{"barrier", func(g *Group) error { return g.Barrier() }},
		{"gather", func(g *Group) error {
			x := Ones(Float32, CPU, 3)
			defer x.Close()
			out, err := g.Gather(x, 0)
			out.Close()
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			groups := localGroups(t, 2, abortTimeout)
			silence(groups[1])
			took, err := endsWithin(t, abortTimeout/4, func() error { return tc.op(groups[0]) })
			lost := wantLost(t, err, 1)
			t.Logf("ended after %v: %v", took.Round(time.Millisecond), lost)
			// Later collectives of an aborted group fail at once.
			_, err = endsWithin(t, abortTimeout/4, func() error { return tc.op(groups[0]) })
			wantLost(t, err, 1)
		})
	}
}

// TestAbortEndsReducingBackward: the end of a backward pass waits for the
// Reducer's allreduce of the gradient buckets; when rank 1 stops, the
// backward pass fails naming it.
func TestAbortEndsReducingBackward(t *testing.T) {
	fastHeartbeat(t, 250*time.Millisecond)
	groups := localGroups(t, 2, abortTimeout)
	g := groups[0]
	w := FromFloat32([]float32{0.5, -1, 2, 0.25, 1, 3}, 2, 3)
	defer w.Close()
	if err := w.SetRequiresGrad(true); err != nil {
		t.Fatal(err)
	}
	red, err := NewReducer(g, []*Tensor{w}, 25<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer red.Close()
	x := FromFloat32([]float32{1, 2, 3}, 1, 3)
	defer x.Close()
	silence(groups[1])
	took, err := endsWithin(t, abortTimeout/4, func() error {
		if err := red.Prepare(); err != nil {
			return err
		}
		y := Linear(x, w, nil)
		loss := y.Sum()
		defer y.Close()
		defer loss.Close()
		if err := loss.Backward(); err != nil {
			return g.Diagnose("allreduce gradients", err)
		}
		return nil
	})
	lost := wantLost(t, err, 1)
	t.Logf("ended after %v: %v", took.Round(time.Millisecond), lost)
}

// TestVerdictReachesEveryRank: of three ranks, rank 2 stops. Rank 1
// watches only rank 0, so its blocked allreduce ends on the verdict rank
// 0 publishes, naming rank 2 as found by rank 0.
func TestVerdictReachesEveryRank(t *testing.T) {
	fastHeartbeat(t, 250*time.Millisecond)
	groups := localGroups(t, 3, abortTimeout)
	silence(groups[2])
	errs := make([]error, 2)
	done := make(chan int, 2)
	for r := range 2 {
		go func() {
			x := Ones(Float32, CPU, 10)
			defer x.Close()
			errs[r] = groups[r].AllReduce([]*Tensor{x}, DistSum)
			done <- r
		}()
	}
	for range 2 {
		select {
		case <-done:
		case <-time.After(abortTimeout / 4):
			t.Fatalf("a rank is still blocked after %v", abortTimeout/4)
		}
	}
	wantLost(t, errs[0], 2)
	lost := wantLost(t, errs[1], 2)
	if !strings.Contains(lost.Why, "found by rank 0") {
		t.Fatalf("rank 1's error %v does not say rank 0 found rank 2 lost", lost)
	}
}

// TestStoreLossEndsBlockedCollective: the launcher's store goes away (its
// host died, or this host was cut off from it) while rank 0 waits in an
// allreduce that rank 1 never joins: rank 0 ends with a *StoreLostError.
func TestStoreLossEndsBlockedCollective(t *testing.T) {
	fastHeartbeat(t, 250*time.Millisecond)
	server, err := NewStore(StoreOptions{Host: "127.0.0.1", Server: true, Timeout: abortTimeout})
	if err != nil {
		t.Fatal(err)
	}
	groups := groupsOn(t, server, 2, abortTimeout)
	server.Close()
	took, err := endsWithin(t, abortTimeout/4, func() error {
		x := Ones(Float32, CPU, 10)
		defer x.Close()
		return groups[0].AllReduce([]*Tensor{x}, DistSum)
	})
	var lost *StoreLostError
	if !errors.As(err, &lost) {
		t.Fatalf("error %v: want a *StoreLostError", err)
	}
	t.Logf("ended after %v: %v", took.Round(time.Millisecond), err)
}
