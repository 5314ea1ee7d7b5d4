package torch

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// localGroups hosts a store on a free loopback port and joins world gloo
// groups to it, one per goroutine as separate processes would.
func localGroups(t testing.TB, world int, timeout time.Duration) []*Group {
	t.Helper()
	if err := Load(); err != nil {
		t.Fatalf("libtorch shim not loadable (run `%s` first): %v", BuildCommand, err)
	}
	server, err := NewStore(StoreOptions{Host: "127.0.0.1", Server: true, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Close)
	return groupsOn(t, server, world, timeout)
}

// groupsOn joins world gloo groups to the store server hosts, one per
// goroutine.
func groupsOn(t testing.TB, server *Store, world int, timeout time.Duration) []*Group {
	t.Helper()
	groups := make([]*Group, world)
	errs := make([]error, world)
	var wg sync.WaitGroup
	for r := range world {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := NewStore(StoreOptions{Host: "127.0.0.1", Port: server.Port(), Timeout: timeout, Prefix: "/test"})
			if err != nil {
				errs[r] = err
				return
			}
			groups[r], errs[r] = NewGroup(st, GroupOptions{Backend: BackendGloo, Rank: r, World: world, Timeout: timeout,
				GlooHost: "127.0.0.1", StoreRank: -1})
			if errs[r] != nil {
				st.Close()
			}
		}()
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	t.Cleanup(func() {
		for _, g := range groups {
			g.CloseAll()
		}
	})
	return groups
}

// onRanks runs fn for every rank concurrently and fails on any error.
func onRanks(t *testing.T, groups []*Group, fn func(g *Group) error) {
	t.Helper()
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for r, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[r] = fn(g)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func TestDistBackendsHaveGloo(t *testing.T) {
	needLib(t)
	bs, err := DistBackends()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(bs, BackendGloo) {
		t.Fatalf("backends %v: the shim was built without Gloo (install libgloo-dev, run make torch)", bs)
	}
}

func TestStoreSetGetAdd(t *testing.T) {
	needLib(t)
	server, err := NewStore(StoreOptions{Host: "127.0.0.1", Server: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if server.Port() == 0 {
		t.Fatal("a store bound to port 0 reports port 0, not the port it bound")
	}
	c, err := NewStore(StoreOptions{Host: "127.0.0.1", Port: server.Port(), Timeout: 5 * time.Second, Prefix: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set("k", []byte("value")); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get("k"); err != nil || string(got) != "value" {
		t.Fatalf("get k = %q, %v; want value", got, err)
	}
	for i, want := range []int64{3, 5} {
		got, err := c.Add("n", []int64{3, 2}[i])
		if err != nil || got != want {
			t.Fatalf("add %d: got %d, %v; want %d", i, got, err, want)
		}
	}
}

func TestGroupCollectives(t *testing.T) {
	groups := localGroups(t, 2, 20*time.Second)
	vals := make([][][]float32, 2)
	onRanks(t, groups, func(g *Group) error {
		r := float32(g.Rank())
		a := FromFloat32([]float32{1 + r, 2 + r, 3 + r, 4 + r}, 2, 2)
		// A channels-last tensor and a second shape share the bucket.
		b := FromFloat32([]float32{10 * (r + 1), -5 * r, 7, 8, 9 + r, 1, 2, 3}, 1, 2, 2, 2).ToFormat(ChannelsLast)
		c := FromFloat32([]float32{r, -r}, 2)
		bc := FromFloat32([]float32{100 + r, 200 + r}, 2)
		mx := FromFloat32([]float32{r, 1 - r}, 2)
		defer func() {
			for _, x := range []*Tensor{a, b, c, bc, mx} {
				x.Close()
			}
		}()
		if err := g.AllReduce([]*Tensor{a, b}, DistSum); err != nil {
			return err
		}
		if err := g.AllReduce([]*Tensor{c}, DistAvg); err != nil {
			return err
		}
		if err := g.AllReduce([]*Tensor{mx}, DistMax); err != nil {
			return err
		}
		if err := g.Broadcast([]*Tensor{bc}, 0, 1<<20); err != nil {
			return err
		}
		if err := g.Barrier(); err != nil {
			return err
		}
		var out [][]float32
		for _, x := range []*Tensor{a, b, c, bc, mx} {
			v, err := x.Float32s()
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		if !b.IsChannelsLast() {
			return fmt.Errorf("rank %d: allreduce changed a channels-last tensor's layout", g.Rank())
		}
		vals[g.Rank()] = out
		return nil
	})
	want := [][]float32{
		{3, 5, 7, 9},
		{30, -5, 14, 16, 19, 2, 4, 6},
		{0.5, -0.5},
		{100, 200},
		{1, 1},
	}
	for r := range vals {
		for i := range want {
			if !slices.Equal(vals[r][i], want[i]) {
				t.Errorf("rank %d tensor %d: got %v, want %v", r, i, vals[r][i], want[i])
			}
		}
	}
}

func TestGroupGather(t *testing.T) {
	groups := localGroups(t, 3, 20*time.Second)
	var got []float32
	var shape []int64
	var mu sync.Mutex
	onRanks(t, groups, func(g *Group) error {
		r := float32(g.Rank())
		x := FromFloat32([]float32{r, 10 * r}, 2)
		defer x.Close()
		all, err := g.Gather(x, 1)
		if err != nil {
			return err
		}
		if (all != nil) != (g.Rank() == 1) {
			return fmt.Errorf("rank %d: gather to rank 1 returned %v", g.Rank(), all)
		}
		if all == nil {
			return nil
		}
		defer all.Close()
		v, err := all.Float32s()
		mu.Lock()
		got, shape = v, all.Shape()
		mu.Unlock()
		return err
	})
	if want := []float32{0, 0, 1, 10, 2, 20}; !slices.Equal(got, want) || !slices.Equal(shape, []int64{3, 2}) {
		t.Fatalf("gathered %v of shape %v, want %v of shape [3 2]", got, shape, want)
	}
}

// TestReducerAveragesGradients checks that a backward pass after Prepare
// leaves on every rank the average of the ranks' gradients, bit for bit as
// (g0 + g1) / 2 in float32, that a backward without Prepare stays local,
// and that the buckets are rebuilt after the first reducing pass.
func TestReducerAveragesGradients(t *testing.T) {
	groups := localGroups(t, 2, 20*time.Second)
	local := make([][][]float32, 2)
	reduced := make([][][]float32, 2)
	stats := make([]ReducerStats, 2)
	onRanks(t, groups, func(g *Group) error {
		r := float32(g.Rank())
		w := FromFloat32([]float32{0.5, -1, 2, 0.25, 1, 3}, 3, 2)
		bias := FromFloat32([]float32{0.1, 0.2}, 2)
		ps := []*Tensor{w, bias}
		defer func() {
			for _, p := range ps {
				p.Close()
			}
		}()
		for _, p := range ps {
			if err := p.SetRequiresGrad(true); err != nil {
				return err
			}
		}
		red, err := NewReducer(g, ps, 25<<20, 1<<20)
		if err != nil {
			return err
		}
		defer red.Close()
		x := FromFloat32([]float32{1 + r, 2, -3 * r, 0.5, 1, 2 + r}, 2, 3)
		defer x.Close()
		// No scopes here: the scope stack is process-wide and the ranks
		// share this process, so each rank frees its own tensors.
		pass := func(reduce bool) ([][]float32, error) {
			if err := ZeroGrad(ps); err != nil {
				return nil, err
			}
			if reduce {
				if err := red.Prepare(); err != nil {
					return nil, err
				}
			}
			w2 := w.Reshape(2, 3)
			y := Linear(x, w2, bias)
			sq := y.Square()
			loss := sq.Sum()
			defer func() {
				for _, t := range []*Tensor{w2, y, sq, loss} {
					t.Close()
				}
			}()
			if err := loss.Backward(); err != nil {
				return nil, g.Diagnose("backward", err)
			}
			var out [][]float32
			for _, p := range ps {
				gr := p.Grad()
				v, err := gr.Float32s()
				gr.Close()
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			return out, nil
		}
		if local[g.Rank()], err = pass(false); err != nil {
			return err
		}
		for range 2 { // the second pass runs on rebuilt buckets
			if reduced[g.Rank()], err = pass(true); err != nil {
				return err
			}
		}
		stats[g.Rank()], err = red.Stats()
		return err
	})
	if slices.Equal(local[0][0], local[1][0]) {
		t.Fatal("the ranks' local gradients are equal; the test inputs do not tell reduction from none")
	}
	for i := range local[0] {
		want := make([]float32, len(local[0][i]))
		for j := range want {
			want[j] = local[0][i][j]*0.5 + local[1][i][j]*0.5
		}
		for r := range reduced {
			if !slices.Equal(reduced[r][i], want) {
				t.Errorf("rank %d parameter %d: reduced gradient %v, want the average %v", r, i, reduced[r][i], want)
			}
		}
	}
	for r, s := range stats {
		if s.Buckets < 1 || s.Bytes != 8*4 || !s.Rebuilt || s.Comm < 0 || s.Exposed < 0 {
			t.Errorf("rank %d: stats %+v, want ≥ 1 bucket of 32 bytes, rebuilt", r, s)
		}
	}
}

// TestGroupNamesRankThatNeverJoined: a group whose rank 1 never starts
// fails after the timeout with an error naming rank 1.
func TestGroupNamesRankThatNeverJoined(t *testing.T) {
	needLib(t)
	defer func(d time.Duration) { HeartbeatInterval = d }(HeartbeatInterval)
	HeartbeatInterval = 100 * time.Millisecond
	server, err := NewStore(StoreOptions{Host: "127.0.0.1", Server: true, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	g, err := NewGroup(server, GroupOptions{Backend: BackendGloo, Rank: 0, World: 2, Timeout: 2 * time.Second, GlooHost: "127.0.0.1", StoreRank: -1})
	if err == nil {
		g.Close()
		t.Fatal("a group of two joined with one rank")
	}
	var lost *PeerLostError
	if !errors.As(err, &lost) || !slices.Equal(lost.Ranks, []int{1}) {
		t.Fatalf("error %v: want a *PeerLostError naming rank 1", err)
	}
	t.Log(err)
}

func TestGroupRejectsUnknownBackend(t *testing.T) {
	needLib(t)
	server, err := NewStore(StoreOptions{Host: "127.0.0.1", Server: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	_, err = NewGroup(server, GroupOptions{Backend: "mpi", World: 1, Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), `unknown backend "mpi"`) {
		t.Fatalf("error %v: want one naming the unknown backend", err)
	}
	bs, _ := DistBackends()
	if !slices.Contains(bs, BackendNCCL) {
		_, err = NewGroup(server, GroupOptions{Backend: BackendNCCL, World: 1, Timeout: time.Second})
		if err == nil || !strings.Contains(err.Error(), "built without NCCL") {
			t.Fatalf("error %v: want one saying the shim was built without NCCL", err)
		}
	}
}

// TestJoinTwice: ranks join a group, leave it and join another through the
// same launcher's store, as a pretrain followed by a fine-tuning under one
// launcher does.
func TestJoinTwice(t *testing.T) {
	needLib(t)
	server, err := NewStore(StoreOptions{Host: "127.0.0.1", Server: true, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	sums := make([][]float32, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rv := Rendezvous{Addr: "127.0.0.1", Port: server.Port(), Rank: r, World: 2, AgentStore: true, Prefix: "/worker/attempt_0"}
			for round := range 2 {
				g, err := Join(rv, JoinOptions{Backend: BackendGloo, Timeout: 20 * time.Second})
				if err != nil {
					errs[r] = fmt.Errorf("round %d: %w", round, err)
					return
				}
				x := FromFloat32([]float32{float32(10*round + r)}, 1)
				err = g.AllReduce([]*Tensor{x}, DistSum)
				v, _ := x.Float32s()
				x.Close()
				g.CloseAll()
				if err != nil {
					errs[r] = err
					return
				}
				sums[r] = append(sums[r], v[0])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for r, s := range sums {
		if !slices.Equal(s, []float32{1, 21}) {
			t.Errorf("rank %d: sums %v, want [1 21]", r, s)
		}
	}
}
