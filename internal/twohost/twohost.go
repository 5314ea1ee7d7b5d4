package twohost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Options configure New.
type Options struct {
	// Delay is added to every packet in each direction, and Loss (0 to 1)
	// of the packets are dropped in each direction. Either makes the link
	// a pair of TUN devices shaped by this process instead of a veth pair.
	Delay time.Duration
	Loss  float64
	// Shaped makes the link the shaped TUN pair even with no delay or
	// loss (to tell its own cost from the delay's).
	Shaped bool
	// DebianHosts writes each host's /etc/hosts as Debian's installer
	// does: the host's own name is 127.0.1.1. Otherwise each host's own
	// name is its TEST-NET-1 address, as on a cluster.
	DebianHosts bool
}

// Pair is two hosts joined by a link.
type Pair struct {
	A, B *Host
	link io.Closer
}

// Host is one of the two network namespaces.
type Host struct {
	Name  string // host name: hosta, hostb
	NS    string // network namespace (ip netns)
	Addr  string // address on Iface: 192.0.2.1, 192.0.2.2
	Iface string // the interface toward the other host: eth0
	Peer  *Host

	// started are the commands made by Command, killed by the cleanup
	// whether or not they have entered the namespace yet (one started
	// just before the cleanup may still be on its way in, where ip netns
	// pids does not see it).
	mu      sync.Mutex
	started []*exec.Cmd
}

// The TEST-NET-1 addresses of the hosts; nothing else is used.
const (
	AddrA  = "192.0.2.1"
	AddrB  = "192.0.2.2"
	prefix = "/24"
	iface  = "eth0"
	// nsPrefix starts every namespace this package makes:
	// wsh<pid>-<n>a, wsh<pid>-<n>b.
	nsPrefix = "wsh"
)

var seq atomic.Int64

// Available reports why two hosts cannot be made here, or nil.
func Available() error { return available(os.Geteuid(), exec.LookPath) }

func available(euid int, lookPath func(string) (string, error)) error {
	if euid != 0 {
		return fmt.Errorf("two network namespaces need root (this test runs as uid %d; CI runs as root): run the tests as root, e.g. sudo -E go test", euid)
	}
	for _, tool := range []struct{ name, pkg string }{{"ip", "iproute2"}, {"unshare", "util-linux"}} {
		if _, err := lookPath(tool.name); err != nil {
			return fmt.Errorf("two network namespaces need %s (Debian package %s; `make deps` installs it): %w", tool.name, tool.pkg, err)
		}
	}
	return nil
}

// New makes two hosts for t, and removes them when t ends.
func New(t testing.TB, o Options) *Pair {
	t.Helper()
	if err := Available(); err != nil {
		t.Fatalf("two-host harness: %v", err)
	}
	if o.Loss < 0 || o.Loss > 1 || o.Delay < 0 {
		t.Fatalf("two-host harness: loss %v (want 0 to 1) and delay %v (want ≥ 0)", o.Loss, o.Delay)
	}
	sweep()
	n := seq.Add(1)
	base := fmt.Sprintf("%s%d-%d", nsPrefix, os.Getpid(), n)
	a := &Host{Name: "hosta", NS: base + "a", Addr: AddrA, Iface: iface}
	b := &Host{Name: "hostb", NS: base + "b", Addr: AddrB, Iface: iface}
	a.Peer, b.Peer = b, a
	p := &Pair{A: a, B: b}
	t.Cleanup(p.remove)
	if err := p.make(o); err != nil {
		t.Fatalf("two-host harness: %v", err)
	}
	return p
}

func (p *Pair) make(o Options) error {
	for _, h := range []*Host{p.A, p.B} {
		if err := ip("netns", "add", h.NS); err != nil {
			return err
		}
		if err := h.writeEtc(o.DebianHosts); err != nil {
			return err
		}
		if err := h.ip("link", "set", "lo", "up"); err != nil {
			return err
		}
	}
	if o.Delay > 0 || o.Loss > 0 || o.Shaped {
		l, err := newShapedLink(p.A.NS, p.B.NS, iface, o.Delay, o.Loss)
		if err != nil {
			return err
		}
		p.link = l
	} else if err := ip("link", "add", iface, "netns", p.A.NS, "type", "veth", "peer", "name", iface, "netns", p.B.NS); err != nil {
		return err
	}
	for _, h := range []*Host{p.A, p.B} {
		if err := h.ip("addr", "add", h.Addr+prefix, "dev", iface); err != nil {
			return err
		}
		if err := h.ip("link", "set", iface, "up"); err != nil {
			return err
		}
	}
	return nil
}

// writeEtc gives the host its /etc/hosts (ip netns exec mounts
// /etc/netns/NS/hosts over /etc/hosts).
func (h *Host) writeEtc(debian bool) error {
	self := h.Addr
	if debian {
		self = "127.0.1.1"
	}
	hosts := fmt.Sprintf("127.0.0.1\tlocalhost\n%s\t%s\n%s\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		self, h.Name, h.Peer.Addr, h.Peer.Name)
	dir := filepath.Join("/etc/netns", h.NS)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	return os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644)
}

// remove kills what runs on the hosts, and deletes the link, the
// namespaces and their files. Errors are ignored: it runs on failed tests
// too, and removes what it can.
func (p *Pair) remove() {
	for _, h := range []*Host{p.A, p.B} {
		h.killStarted()
		h.Signal(syscall.SIGKILL)
	}
	if p.link != nil {
		p.link.Close()
	}
	for _, h := range []*Host{p.A, p.B} {
		removeNS(h.NS)
	}
}

func removeNS(ns string) {
	ip("netns", "del", ns) //nolint:errcheck
	os.RemoveAll(filepath.Join("/etc/netns", ns))
}

// sweep removes the namespaces of test binaries that are gone (killed
// before their cleanup ran).
func sweep() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, nsPrefix) {
			continue
		}
		pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(name, nsPrefix), "-", 2)[0])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); errors.Is(err, os.ErrNotExist) {
			removeNS(name)
		}
	}
}

// Command returns a command that runs name on h, under its host name.
// The pair's cleanup kills it if it still runs.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	full := append([]string{"netns", "exec", h.NS, "unshare", "--uts", "--", "/bin/sh", "-c",
		`hostname "$0" && exec "$@"`, h.Name, name}, args...)
	cmd := exec.CommandContext(ctx, "ip", full...)
	h.mu.Lock()
	h.started = append(h.started, cmd)
	h.mu.Unlock()
	return cmd
}

// killStarted kills every command of Command that was started: ip netns
// exec, unshare and the shell each exec the next, so the process is the
// command itself whichever step it has reached.
func (h *Host) killStarted() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, cmd := range h.started {
		if cmd.Process != nil {
			cmd.Process.Kill() //nolint:errcheck // done already, or killed
		}
	}
}

// Output runs name on h and returns its standard output.
func (h *Host) Output(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := h.Command(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s on %s: %w: %s", name, h.Name, err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// Cut takes h's end of the link down: packets between the hosts are lost
// from then on, and nothing tells the processes on either side.
func (h *Host) Cut() error { return h.ip("link", "set", h.Iface, "down") }

// Restore brings h's end of the link up again.
func (h *Host) Restore() error { return h.ip("link", "set", h.Iface, "up") }

// Pids returns the processes running on h.
func (h *Host) Pids() []int {
	out, _ := exec.Command("ip", "netns", "pids", h.NS).Output()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Signal sends sig to every process running on h and returns how many
// there were.
func (h *Host) Signal(sig syscall.Signal) int {
	pids := h.Pids()
	n := 0
	for _, pid := range pids {
		if pid != os.Getpid() {
			syscall.Kill(pid, sig)
			n++
		}
	}
	return n
}

func (h *Host) ip(args ...string) error {
	return ip(append([]string{"-n", h.NS}, args...)...)
}

var ipMu sync.Mutex

func ip(args ...string) error {
	// Concurrent changes of namespaces race inside iproute2 (mounting
	// /run/netns): one at a time within this process.
	ipMu.Lock()
	defer ipMu.Unlock()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
