package torch

/*
#include "dist_bridge.h"
*/
import "C"

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Distributed backends.
const (
	BackendGloo = "gloo" // CPU tensors, TCP; built into Debian's libtorch (headers from libgloo-dev)
	BackendNCCL = "nccl" // CUDA tensors; only in a shim built against a CUDA libtorch
)

// DistBackends returns the process-group backends the loaded shim was built
// with ("gloo", and "nccl" in a CUDA build).
func DistBackends() ([]string, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	var out, e *C.char
	if C.wtg_dist_backends(&out, &e) != 0 {
		return nil, cError("dist backends", e)
	}
	s := C.GoString(out)
	C.wtg_string_free(out)
	if s == "" {
		return nil, nil
	}
	return strings.Split(s, ","), nil
}

// Store is a c10d TCPStore: the key-value store ranks rendezvous through.
// One process hosts it (the server); every rank holds a client. A Store is
// safe for concurrent use.
type Store struct {
	mu     sync.Mutex
	h      C.wt_store
	host   string
	port   int
	prefix string
	server bool
}

// StoreOptions configure NewStore.
type StoreOptions struct {
	Host    string        // address clients connect to (the server listens on every interface)
	Port    int           // 0 with Server binds a free port (see Port)
	Server  bool          // host the store in this process
	Timeout time.Duration // bound of every store operation, connecting included
	Prefix  string        // namespace for the keys ("" for none)
}

// NewStore hosts or connects to a TCPStore. A client retries connecting
// until Timeout, so ranks may start in any order.
func NewStore(o StoreOptions) (*Store, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		return nil, &Error{Op: "store", Msg: "timeout must be positive"}
	}
	host := C.CString(o.Host)
	defer C.free(unsafe.Pointer(host))
	prefix := C.CString(o.Prefix)
	defer C.free(unsafe.Pointer(prefix))
	var h C.wt_store
	var bound C.int
	var e *C.char
	if C.wtg_store_tcp(host, C.int(o.Port), cbool(o.Server), C.int64_t(o.Timeout.Milliseconds()), prefix, &h, &bound, &e) != 0 {
		return nil, cError(fmt.Sprintf("store %s:%d", o.Host, o.Port), e)
	}
	return &Store{h: h, host: o.Host, port: int(bound), prefix: o.Prefix, server: o.Server}, nil
}

// Port is the port the store listens on (the one bound for port 0).
func (s *Store) Port() int { return s.port }

// Addr is host:port.
func (s *Store) Addr() string { return fmt.Sprintf("%s:%d", s.host, s.port) }

// Set stores value under key.
func (s *Store) Set(key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		return errClosed
	}
	k := C.CString(key)
	defer C.free(unsafe.Pointer(k))
	var p unsafe.Pointer
	if len(value) > 0 {
		p = C.CBytes(value)
		defer C.free(p)
	}
	var e *C.char
	if C.wtg_store_set(s.h, k, p, C.int64_t(len(value)), &e) != 0 {
		return cError("store set "+key, e)
	}
	return nil
}

// Get waits, up to the store's timeout, for key and returns its value.
func (s *Store) Get(key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		return nil, errClosed
	}
	k := C.CString(key)
	defer C.free(unsafe.Pointer(k))
	var v *C.char
	var n C.int64_t
	var e *C.char
	if C.wtg_store_get(s.h, k, &v, &n, &e) != 0 {
		return nil, cError("store get "+key, e)
	}
	out := C.GoBytes(unsafe.Pointer(v), C.int(n))
	C.wtg_string_free(v)
	return out, nil
}

// Add adds delta to the counter at key (created at 0) and returns the new
// value; Add(key, 0) reads a counter without waiting for it.
func (s *Store) Add(key string, delta int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		return 0, errClosed
	}
	k := C.CString(key)
	defer C.free(unsafe.Pointer(k))
	var out C.int64_t
	var e *C.char
	if C.wtg_store_add(s.h, k, C.int64_t(delta), &out, &e) != 0 {
		return 0, cError("store add "+key, e)
	}
	return int64(out), nil
}

// Close disconnects (and stops a hosted store). It is idempotent.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h != nil {
		C.wtg_store_free(s.h)
		s.h = nil
	}
}

// DistOp is the reduction of AllReduce.
type DistOp int

// Reductions across ranks; the values match the C ABI.
const (
	DistSum DistOp = 0
	DistAvg DistOp = 1 // each rank's values × 1/world, then summed (DistributedDataParallel's averaging)
	DistMax DistOp = 2
	DistMin DistOp = 3
)

// GroupOptions configure NewGroup.
type GroupOptions struct {
	Backend string // BackendGloo or BackendNCCL
	Rank    int
	World   int
	// Timeout bounds every collective: a peer that died or stopped makes
	// the collective fail after at most this long.
	Timeout time.Duration
	// GlooHost is the address Gloo binds and peers reach this rank at;
	// "" picks $GLOO_SOCKET_IFNAME's interfaces or the host name's address.
	GlooHost string
	// StoreRank is the rank whose process hosts the store (0 under
	// torchrun's and Slurm's rendezvous), or -1 when a launcher hosts it:
	// a store that stops answering then means that rank is lost.
	StoreRank int
	// Peers describe the ranks, by rank (Join exchanges them), so that
	// errors name a lost rank's host; nil when unknown.
	Peers []Peer
}

// Group is a c10d process group: World processes that run the same
// collectives in the same order. Collectives block until every rank has
// joined them, the timeout passes, or the heartbeat watcher finds a rank
// (or the store) lost and aborts the group; their errors go through
// Diagnose, so a lost peer is reported by rank and host (*PeerLostError).
// A Group is used from one goroutine.
type Group struct {
	h     C.wt_group
	store *Store
	base  *Store // Join's connection to (or hosting of) the rendezvous store
	opt   GroupOptions
	live  *liveness
}

// NewGroup creates the process group over store, which every rank must
// reach. It returns once all World ranks have joined, or fails after the
// timeout naming the ranks that did not.
func NewGroup(store *Store, o GroupOptions) (*Group, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		return nil, &Error{Op: "process group", Msg: "timeout must be positive"}
	}
	if o.World < 1 || o.Rank < 0 || o.Rank >= o.World {
		return nil, &Error{Op: "process group", Msg: fmt.Sprintf("rank %d outside world size %d", o.Rank, o.World)}
	}
	if err := checkBackend(o.Backend); err != nil {
		return nil, err
	}
	live, err := startLiveness(store, o.Rank, o.World, o.StoreRank, o.Peers)
	if err != nil {
		return nil, err
	}
	backend := C.CString(o.Backend)
	defer C.free(unsafe.Pointer(backend))
	host := C.CString(o.GlooHost)
	defer C.free(unsafe.Pointer(host))
	var h C.wt_group
	var e *C.char
	store.mu.Lock()
	rc := C.wtg_group_new(store.h, backend, C.int(o.Rank), C.int(o.World), C.int64_t(o.Timeout.Milliseconds()), host, &h, &e)
	store.mu.Unlock()
	if rc != 0 {
		err := cError("process group", e)
		err = live.diagnose("join the process group", err)
		live.stop()
		return nil, err
	}
	live.attach(func(why string) {
		w := C.CString(why)
		defer C.free(unsafe.Pointer(w))
		var e *C.char
		if C.wtg_group_abort(h, w, &e) != 0 {
			C.wtg_string_free(e)
		}
	})
	return &Group{h: h, store: store, opt: o, live: live}, nil
}

// checkBackend reports a backend that is unknown or not in this build.
func checkBackend(b string) error {
	if b != BackendGloo && b != BackendNCCL {
		return &Error{Op: "process group", Msg: fmt.Sprintf("unknown backend %q (want %s or %s)", b, BackendGloo, BackendNCCL)}
	}
	built, err := DistBackends()
	if err != nil {
		return err
	}
	if slices.Contains(built, b) {
		return nil
	}
	if b == BackendNCCL {
		return &Error{Op: "process group", Msg: "backend nccl: this libweaksup_torch.so was built without NCCL (a libtorch " +
			"without CUDA, or no nccl.h found); build the shim against a CUDA PyTorch's libtorch with " +
			"`make torch TORCH_DIR=/path/to/site-packages/torch`, or use --dist-backend gloo"}
	}
	return &Error{Op: "process group", Msg: "backend gloo: this libweaksup_torch.so was built without Gloo's headers; " +
		"install libgloo-dev (make deps) and rebuild it with `make torch`"}
}

// Rank is this process's rank.
func (g *Group) Rank() int { return g.opt.Rank }

// World is the number of ranks.
func (g *Group) World() int { return g.opt.World }

// Backend is the group's backend.
func (g *Group) Backend() string { return g.opt.Backend }

// Timeout is the bound of every collective.
func (g *Group) Timeout() time.Duration { return g.opt.Timeout }

// Store is the store the group rendezvoused through.
func (g *Group) Store() *Store { return g.store }

// Broadcast overwrites ts on every rank with root's values, packed into
// flat buffers of at most bucketBytes (c10d::broadcast_coalesced, as
// DistributedDataParallel syncs parameters and buffers).
func (g *Group) Broadcast(ts []*Tensor, root int, bucketBytes int64) error {
	if len(ts) == 0 {
		return nil
	}
	if err := g.check("broadcast", ts...); err != nil {
		return err
	}
	hs := handles(ts)
	var e *C.char
	if C.wtg_group_broadcast(g.h, &hs[0], C.int(len(hs)), C.int(root), C.int64_t(bucketBytes), &e) != 0 {
		return g.Diagnose("broadcast", cError("broadcast", e))
	}
	return nil
}

// AllReduce reduces ts across the ranks as one flat bucket (one
// collective), leaving the result in ts on every rank. The tensors must
// share a dtype and device.
func (g *Group) AllReduce(ts []*Tensor, op DistOp) error {
	if len(ts) == 0 {
		return nil
	}
	if err := g.check("allreduce", ts...); err != nil {
		return err
	}
	hs := handles(ts)
	var e *C.char
	if C.wtg_group_allreduce(g.h, &hs[0], C.int(len(hs)), C.int(op), &e) != 0 {
		return g.Diagnose("allreduce", cError("allreduce", e))
	}
	return nil
}

// Gather collects t (the same shape on every rank) at root: there it
// returns a new tensor [World, t's shape...] in the innermost scope, rank r's
// at index r; elsewhere nil.
func (g *Group) Gather(t *Tensor, root int) (*Tensor, error) {
	if err := g.check("gather", t); err != nil {
		return nil, err
	}
	var out C.wt_tensor
	var e *C.char
	if C.wtg_group_gather(g.h, t.h, C.int(root), &out, &e) != 0 {
		return nil, g.Diagnose("gather", cError("gather", e))
	}
	if out == nil {
		return nil, nil
	}
	return adopt(out), nil
}

// Barrier returns once every rank has called it.
func (g *Group) Barrier() error {
	if g.h == nil {
		return errClosed
	}
	var e *C.char
	if C.wtg_group_barrier(g.h, &e) != 0 {
		return g.Diagnose("barrier", cError("barrier", e))
	}
	return nil
}

func (g *Group) check(op string, ts ...*Tensor) error {
	if g == nil || g.h == nil {
		return &Error{Op: op, Msg: "closed process group"}
	}
	return check(op, ts...)
}

// Diagnose turns the error of a failed collective (op names it) into a
// *PeerLostError naming the ranks that stopped answering, when the
// heartbeats show some did; other errors come back wrapped with op. It is
// for errors of work that involves the group outside its own methods, such
// as a backward pass whose gradients a Reducer allreduces.
func (g *Group) Diagnose(op string, err error) error {
	if err == nil || g == nil || g.live == nil {
		return err
	}
	return g.live.diagnose(op, err)
}

// Close frees the group. After a failed or aborted collective the
// backend's threads may still be blocked on a lost peer; Close does not
// wait for them (the shim leaves that process group to the process's
// exit). It is idempotent; the store stays open.
func (g *Group) Close() {
	if g == nil || g.h == nil {
		return
	}
	g.live.stop()
	C.wtg_group_free(g.h)
	g.h = nil
}

// Reducer is c10d's Reducer, the gradient synchronization of PyTorch's
// DistributedDataParallel: it hooks each parameter's gradient accumulator,
// and during a backward pass that follows Prepare it averages the
// gradients across the ranks in buckets, each allreduced as soon as its
// gradients are ready, so communication overlaps the rest of the backward
// pass. The first such backward reduces one bucket of everything; then the
// buckets are rebuilt (at most bucketBytes each, firstBucketBytes for the
// first) in the order the gradients arrived, as DDP does.
type Reducer struct {
	h C.wt_reducer
	g *Group
}

// ReducerStats describe the last reducing backward pass.
type ReducerStats struct {
	Buckets int
	Bytes   int64
	// Comm is from the first bucket's launch to the last bucket's
	// completion; Exposed from the last bucket's launch (when the last
	// gradient was ready) to the end of the backward pass: the part of
	// communication the backward pass waited for. Comm − Exposed overlapped
	// the gradient computation.
	Comm, Exposed time.Duration
	Rebuilt       bool // the buckets follow the gradients' arrival order
}

// NewReducer attaches a reducer to params (leaves that require grad; every
// one must get a gradient in every reducing backward).
func NewReducer(g *Group, params []*Tensor, bucketBytes, firstBucketBytes int64) (*Reducer, error) {
	if len(params) == 0 {
		return nil, &Error{Op: "reducer", Msg: "no parameters"}
	}
	if err := g.check("reducer", params...); err != nil {
		return nil, err
	}
	hs := handles(params)
	var h C.wt_reducer
	var e *C.char
	if C.wtg_reducer_new(g.h, &hs[0], C.int(len(hs)), C.int64_t(bucketBytes), C.int64_t(firstBucketBytes), &h, &e) != 0 {
		return nil, g.Diagnose("reducer", cError("reducer", e))
	}
	return &Reducer{h: h, g: g}, nil
}

// Prepare arms the reducer for the next backward pass; call it before the
// forward pass of the micro-batch whose backward ends a step. A backward
// without it accumulates gradients locally (DDP's no_sync).
func (r *Reducer) Prepare() error {
	if r == nil || r.h == nil {
		return errClosed
	}
	var e *C.char
	if C.wtg_reducer_prepare(r.h, &e) != 0 {
		return r.g.Diagnose("reducer", cError("reducer prepare", e))
	}
	return nil
}

// Stats returns the statistics of the last reducing backward pass; call it
// right after that pass (Exposed runs until the call).
func (r *Reducer) Stats() (ReducerStats, error) {
	if r == nil || r.h == nil {
		return ReducerStats{}, errClosed
	}
	var v [C.WT_RS_COUNT]C.int64_t
	var e *C.char
	if C.wtg_reducer_stats(r.h, &v[0], &e) != 0 {
		return ReducerStats{}, cError("reducer stats", e)
	}
	return ReducerStats{
		Buckets: int(v[C.WT_RS_BUCKETS]),
		Bytes:   int64(v[C.WT_RS_BYTES]),
		Comm:    time.Duration(v[C.WT_RS_COMM_NS]),
		Exposed: time.Duration(v[C.WT_RS_EXPOSED_NS]),
		Rebuilt: v[C.WT_RS_REBUILT] != 0,
	}, nil
}

// Close detaches the reducer's hooks. It is idempotent.
func (r *Reducer) Close() {
	if r == nil || r.h == nil {
		return
	}
	C.wtg_reducer_free(r.h)
	r.h = nil
}
