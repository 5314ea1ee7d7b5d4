package torch

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Peer is what a rank tells the others about itself when it joins a group:
// where it runs and the address its Gloo binds and advertises. Errors that
// name a rank name its host with it.
type Peer struct {
	Rank int    `json:"rank"`
	Host string `json:"host"` // the host name (os.Hostname)
	// Addr is the address Gloo binds and the other ranks connect to; ""
	// leaves the choice to Gloo ($GLOO_SOCKET_IFNAME, else the host name's
	// address).
	Addr string `json:"addr,omitempty"`
	// From says how Addr was chosen ("the route to MASTER_ADDR=…"), for
	// messages.
	From string `json:"from,omitempty"`
	// Master is the address MASTER_ADDR resolved to on this rank's host.
	Master string `json:"master,omitempty"`
	// Stack identifies the network stack the rank runs in (the kernel's
	// boot and the network namespace): ranks of one stack reach each other
	// on loopback, ranks of different stacks cannot.
	Stack string `json:"stack,omitempty"`
}

// String is "host (addr)", or the host alone.
func (p Peer) String() string {
	switch {
	case p.Host == "" && p.Addr == "":
		return "an unknown host"
	case p.Addr == "":
		return p.Host
	case p.Host == "":
		return p.Addr
	}
	return fmt.Sprintf("%s (%s)", p.Host, p.Addr)
}

// LocalPeer fills in what a Peer says about this process: its host name
// and network stack.
func LocalPeer(p Peer) Peer {
	if p.Host == "" {
		p.Host, _ = os.Hostname()
	}
	if p.Stack == "" {
		p.Stack = NetworkStack()
	}
	return p
}

// NetworkStack identifies the network stack this process runs in: the
// kernel's boot id and the inode of its network namespace. Two processes
// with the same stack share the loopback interface.
func NetworkStack() string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	id := strings.TrimSpace(string(boot))
	if err != nil || id == "" {
		id, _ = os.Hostname()
	}
	if fi, err := os.Stat("/proc/self/ns/net"); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			return id + "/net:" + strconv.FormatUint(st.Ino, 10)
		}
	}
	return id
}

// Peer key names in a group's store.
const (
	peersCountKey = "weaksup/peers"
	peerKeyPrefix = "weaksup/peer/"
)

// exchangePeers publishes self (rank self.Rank of world) in store and
// returns every rank's record, by rank, once all have published; after
// timeout it fails naming the ranks that did not. It polls rather than
// blocking in the store, so every wait is its own.
func exchangePeers(store *Store, self Peer, world int, timeout time.Duration) ([]Peer, error) {
	b, err := json.Marshal(self)
	if err != nil {
		return nil, err
	}
	if err := store.Set(peerKeyPrefix+strconv.Itoa(self.Rank), b); err != nil {
		return nil, fmt.Errorf("publish this rank's address: %w", err)
	}
	if _, err := store.Add(peerKeyPrefix+strconv.Itoa(self.Rank)+"/in", 1); err != nil {
		return nil, fmt.Errorf("publish this rank's address: %w", err)
	}
	if _, err := store.Add(peersCountKey, 1); err != nil {
		return nil, fmt.Errorf("publish this rank's address: %w", err)
	}
	deadline := time.Now().Add(timeout)
	pause := 5 * time.Millisecond
	for {
		n, err := store.Add(peersCountKey, 0)
		if err != nil {
			return nil, fmt.Errorf("wait for the other ranks: %w", err)
		}
		if n >= int64(world) {
			break
		}
		if time.Now().After(deadline) {
			var missing []string
			for r := range world {
				if v, err := store.Add(peerKeyPrefix+strconv.Itoa(r)+"/in", 0); err == nil && v == 0 {
					missing = append(missing, strconv.Itoa(r))
				}
			}
			return nil, fmt.Errorf("wait for the other ranks: %d of %d arrived within %v; missing: rank %s",
				n, world, timeout, strings.Join(missing, ", "))
		}
		time.Sleep(pause)
		pause = min(2*pause, 250*time.Millisecond)
	}
	peers := make([]Peer, world)
	for r := range world {
		v, err := store.Get(peerKeyPrefix + strconv.Itoa(r))
		if err != nil {
			return nil, fmt.Errorf("read rank %d's address: %w", r, err)
		}
		if err := json.Unmarshal(v, &peers[r]); err != nil {
			return nil, fmt.Errorf("read rank %d's address %q: %w", r, v, err)
		}
		peers[r].Rank = r
	}
	return peers, nil
}
