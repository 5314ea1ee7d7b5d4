package torch

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rendezvous is where and as which rank a process joins a process group,
// as the launchers describe it in the environment.
type Rendezvous struct {
	Addr       string // MASTER_ADDR: the host of the store
	Port       int    // MASTER_PORT
	Rank       int    // RANK: this process, in [0, World)
	World      int    // WORLD_SIZE
	LocalRank  int    // LOCAL_RANK: this process among those of its machine (its GPU)
	LocalWorld int    // LOCAL_WORLD_SIZE (0 when the launcher does not say)
	// AgentStore is set when the launcher hosts the store itself
	// (TORCHELASTIC_USE_AGENT_STORE=True: torchrun's static rendezvous,
	// and weaksup's --nproc-per-node); then every rank is a client and the
	// keys live under Prefix. Otherwise rank 0 hosts the store.
	AgentStore bool
	Prefix     string
	// Source says where it came from: "env" (RANK, WORLD_SIZE, … as
	// torchrun, a PyTorchJob or --nproc-per-node set them) or "slurm".
	Source string
}

// Environment variables of the rendezvous.
const (
	EnvMasterAddr = "MASTER_ADDR"
	EnvMasterPort = "MASTER_PORT"
	EnvRank       = "RANK"
	EnvWorldSize  = "WORLD_SIZE"
	EnvLocalRank  = "LOCAL_RANK"
	EnvLocalWorld = "LOCAL_WORLD_SIZE"
	EnvAgentStore = "TORCHELASTIC_USE_AGENT_STORE"
	EnvRestarts   = "TORCHELASTIC_RESTART_COUNT"
)

// DefaultMasterPort is torch.distributed's default store port.
const DefaultMasterPort = 29500

// RendezvousFromEnv reads the rendezvous that torchrun (or any launcher
// that sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT, such as
// Kubernetes' PyTorchJob) or Slurm's srun describes. Under srun without
// those variables it uses SLURM_PROCID, SLURM_NTASKS and SLURM_LOCALID, the
// first host of the step's node list as MASTER_ADDR, and a MASTER_PORT
// derived from the job id (20000 + id mod 20000) unless one is set. ok is
// false when the environment describes no group (a plain single process).
func RendezvousFromEnv(getenv func(string) string) (rv Rendezvous, ok bool, err error) {
	if getenv(EnvWorldSize) != "" || getenv(EnvRank) != "" {
		return torchrunRendezvous(getenv)
	}
	if getenv("SLURM_PROCID") != "" && getenv("SLURM_NTASKS") != "" && getenv("SLURM_STEP_ID") != "" {
		return slurmRendezvous(getenv)
	}
	return Rendezvous{}, false, nil
}

func envInt(getenv func(string) string, name string, def int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("read $%s=%q: not an integer", name, v)
	}
	return n, nil
}

func torchrunRendezvous(getenv func(string) string) (Rendezvous, bool, error) {
	rv := Rendezvous{Source: "env", Addr: getenv(EnvMasterAddr)}
	var err error
	for _, f := range []struct {
		p    *int
		name string
		def  int
	}{{&rv.World, EnvWorldSize, -1}, {&rv.Rank, EnvRank, -1}, {&rv.LocalRank, EnvLocalRank, 0},
		{&rv.LocalWorld, EnvLocalWorld, 0}, {&rv.Port, EnvMasterPort, DefaultMasterPort}} {
		if *f.p, err = envInt(getenv, f.name, f.def); err != nil {
			return rv, false, err
		}
	}
	switch {
	case rv.World < 1:
		return rv, false, fmt.Errorf("read the rendezvous: $%s=%q, want a world size ≥ 1 alongside $%s", EnvWorldSize, getenv(EnvWorldSize), EnvRank)
	case rv.Rank < 0 || rv.Rank >= rv.World:
		return rv, false, fmt.Errorf("read the rendezvous: $%s=%q outside world size %d", EnvRank, getenv(EnvRank), rv.World)
	case rv.Addr == "" && rv.World > 1:
		return rv, false, fmt.Errorf("read the rendezvous: $%s is not set (the host of rank 0's store)", EnvMasterAddr)
	case rv.Addr == "":
		rv.Addr = "127.0.0.1"
	}
	if err := checkPort(rv.Port); err != nil {
		return rv, false, err
	}
	if strings.EqualFold(getenv(EnvAgentStore), "true") {
		restarts := getenv(EnvRestarts)
		if restarts == "" {
			restarts = "0"
		}
		rv.AgentStore = true
		// torch.distributed's env:// rendezvous uses the same prefix, so
		// Python ranks and ours can share a launcher's store.
		rv.Prefix = "/worker/attempt_" + restarts
	}
	return rv, true, nil
}

func checkPort(p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("read the rendezvous: $%s=%d outside 1–65535", EnvMasterPort, p)
	}
	return nil
}

func slurmRendezvous(getenv func(string) string) (Rendezvous, bool, error) {
	rv := Rendezvous{Source: "slurm"}
	var err error
	if rv.Rank, err = envInt(getenv, "SLURM_PROCID", 0); err != nil {
		return rv, false, err
	}
	if rv.World, err = envInt(getenv, "SLURM_NTASKS", 1); err != nil {
		return rv, false, err
	}
	if rv.LocalRank, err = envInt(getenv, "SLURM_LOCALID", 0); err != nil {
		return rv, false, err
	}
	if rv.LocalWorld, err = envInt(getenv, "SLURM_NTASKS_PER_NODE", 0); err != nil {
		rv.LocalWorld = 0 // "2(x3)" forms are not a single number
	}
	if rv.World < 1 || rv.Rank < 0 || rv.Rank >= rv.World {
		return rv, false, fmt.Errorf("read the Slurm rendezvous: SLURM_PROCID %d outside SLURM_NTASKS %d", rv.Rank, rv.World)
	}
	rv.Addr = getenv(EnvMasterAddr)
	if rv.Addr == "" {
		list := getenv("SLURM_STEP_NODELIST")
		if list == "" {
			list = getenv("SLURM_JOB_NODELIST")
		}
		if rv.Addr, err = FirstHost(list); err != nil {
			return rv, false, fmt.Errorf("read the Slurm rendezvous: %w", err)
		}
	}
	if getenv(EnvMasterPort) != "" {
		if rv.Port, err = envInt(getenv, EnvMasterPort, 0); err != nil {
			return rv, false, err
		}
	} else {
		job, err := envInt(getenv, "SLURM_JOB_ID", 0)
		if err != nil {
			return rv, false, err
		}
		rv.Port = 20000 + job%20000
	}
	return rv, true, checkPort(rv.Port)
}

// FirstHost returns the first host name of a Slurm host list such as
// "gpu[07-09,12],cpu3" (gpu07).
func FirstHost(list string) (string, error) {
	list = strings.TrimSpace(list)
	if list == "" {
		return "", fmt.Errorf("empty node list (set %s)", EnvMasterAddr)
	}
	var b strings.Builder
	for i := 0; i < len(list); i++ {
		switch c := list[i]; c {
		case ',':
			return b.String(), nil
		case '[':
			end := strings.IndexByte(list[i:], ']')
			if end < 0 {
				return "", fmt.Errorf("node list %q: unclosed [", list)
			}
			first := list[i+1 : i+end]
			if j := strings.IndexAny(first, ",-"); j >= 0 {
				first = first[:j]
			}
			if first == "" {
				return "", fmt.Errorf("node list %q: empty range", list)
			}
			b.WriteString(first)
			i += end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// JoinOptions configure Join.
type JoinOptions struct {
	Backend string        // BackendGloo or BackendNCCL
	Timeout time.Duration // of the store and of every collective
	// Advertise, when set, returns what this rank tells the others: Addr,
	// the address its Gloo binds and advertises, and From, how it was
	// chosen; Join calls it once the store answers (so the route to it
	// exists) and fills in the host name and the network stack. Without
	// it the address is the loopback one when MASTER_ADDR is this
	// machine's loopback, else Gloo's own choice.
	Advertise func() (Peer, error)
	// CheckPeers, when set, checks every rank's record before the process
	// group is created (for instance that no rank advertises an address the
	// others cannot reach); its error fails the join on every rank.
	CheckPeers func([]Peer) error
}

// Join connects to (rank 0: hosts) the store of rv and joins the process
// group. A process may join several groups one after another (a pretrain
// then a fine-tuning under one launcher): each gets a key namespace of its
// own in the store. The caller closes the group with CloseAll.
func Join(rv Rendezvous, o JoinOptions) (*Group, error) {
	fail := func(err error) (*Group, error) {
		return nil, fmt.Errorf("rank %d of %d: rendezvous at %s:%d: %w", rv.Rank, rv.World, rv.Addr, rv.Port, err)
	}
	base, err := NewStore(StoreOptions{Host: rv.Addr, Port: rv.Port, Server: rv.Rank == 0 && !rv.AgentStore,
		Timeout: o.Timeout, Prefix: rv.Prefix})
	if err != nil {
		return fail(err)
	}
	// Every rank counts itself in; group g's ranks draw g·World+1 …
	// (g+1)·World, because no rank can join group g+1 before all have
	// joined group g.
	n, err := base.Add("weaksup/joins", 1)
	if err != nil {
		base.Close()
		return fail(err)
	}
	store, err := NewStore(StoreOptions{Host: rv.Addr, Port: base.Port(), Timeout: o.Timeout,
		Prefix: fmt.Sprintf("%s/weaksup/group%d", rv.Prefix, (n-1)/int64(rv.World))})
	if err != nil {
		base.Close()
		return fail(err)
	}
	storeRank := 0
	if rv.AgentStore {
		storeRank = -1
	}
	self := Peer{Addr: glooHost(rv.Addr)}
	if o.Advertise != nil {
		if self, err = o.Advertise(); err != nil {
			store.Close()
			base.Close()
			return fail(err)
		}
	}
	self = LocalPeer(self)
	self.Rank = rv.Rank
	peers, err := exchangePeers(store, self, rv.World, o.Timeout)
	if err == nil && o.CheckPeers != nil {
		err = o.CheckPeers(peers)
	}
	if err != nil {
		store.Close()
		base.Close()
		return fail(err)
	}
	g, err := NewGroup(store, GroupOptions{Backend: o.Backend, Rank: rv.Rank, World: rv.World, Timeout: o.Timeout,
		GlooHost: self.Addr, StoreRank: storeRank, Peers: peers})
	if err != nil {
		store.Close()
		base.Close()
		return nil, fmt.Errorf("rank %d of %d: %w", rv.Rank, rv.World, err)
	}
	g.base = base
	return g, nil
}

// glooHost binds Gloo to the loopback address when the store is on this
// machine's loopback (every rank local); otherwise Gloo picks the address of
// the host name, or $GLOO_SOCKET_IFNAME.
func glooHost(addr string) string {
	if addr == "localhost" || addr == "::1" || strings.HasPrefix(addr, "127.") {
		return "127.0.0.1"
	}
	return ""
}

// CloseAll closes the group and then its stores (for a group made by
// Join).
func (g *Group) CloseAll() {
	if g == nil {
		return
	}
	g.Close()
	if g.store != nil {
		g.store.Close()
	}
	if g.base != nil {
		g.base.Close()
	}
}
