package twohost

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// roleEnv makes the test binary an echo server or client on a host:
// "serve ADDR" or "dial ADDR ROUNDS".
const roleEnv = "WEAKSUP_TWOHOST_ROLE"

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		if err := runRole(strings.Fields(role)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runRole(args []string) error {
	switch {
	case len(args) == 2 && args[0] == "serve":
		ln, err := net.Listen("tcp", args[1])
		if err != nil {
			return err
		}
		fmt.Println("listening")
		for {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			go func() {
				io.Copy(c, c)
				c.Close()
			}()
		}
	case len(args) == 3 && args[0] == "send":
		mb, _ := strconv.Atoi(args[2])
		c, err := net.DialTimeout("tcp", args[1], 3*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Minute))
		buf := make([]byte, 1<<20)
		t0 := time.Now()
		// The echo comes back while the rest goes out: every byte
		// crosses the link twice.
		back := make(chan error, 1)
		go func() {
			n, err := io.Copy(io.Discard, c)
			if err == nil && n != int64(mb)<<20 {
				err = fmt.Errorf("read back %d bytes, want %d", n, mb<<20)
			}
			back <- err
		}()
		for range mb {
			if _, err := c.Write(buf); err != nil {
				return err
			}
		}
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			return err
		}
		if err := <-back; err != nil {
			return err
		}
		fmt.Println("took", int64(time.Since(t0)))
		return nil
	case len(args) == 3 && args[0] == "dial":
		rounds, _ := strconv.Atoi(args[2])
		c, err := net.DialTimeout("tcp", args[1], 3*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Minute))
		msg := []byte(strings.Repeat("x", 99) + "\n")
		r := bufio.NewReader(c)
		var rtts []time.Duration
		for range rounds {
			t0 := time.Now()
			if _, err := c.Write(msg); err != nil {
				return err
			}
			if _, err := r.ReadString('\n'); err != nil {
				return err
			}
			rtts = append(rtts, time.Since(t0))
		}
		slices.Sort(rtts)
		fmt.Println("rtt", int64(rtts[len(rtts)/2]))
		return nil
	}
	return fmt.Errorf("unknown role %q", args)
}

// serve starts an echo server on h at addr and waits until it listens.
func serve(t *testing.T, h *Host, addr string) { serveB(t, h, addr) }

func serveB(t testing.TB, h *Host, addr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := h.Command(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), roleEnv+"=serve "+addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "listening\n" {
		t.Fatalf("echo server on %s at %s: %q, %v", h.Name, addr, line, err)
	}
}

// dial runs rounds of echo from h to addr and returns the median round
// trip.
func dial(h *Host, addr string, rounds int) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := h.Command(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), roleEnv+fmt.Sprintf("=dial %s %d", addr, rounds))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%w: %s", err, out)
	}
	var ns int64
	if _, err := fmt.Sscanf(string(out), "rtt %d", &ns); err != nil {
		return 0, fmt.Errorf("read %q: %w", out, err)
	}
	return time.Duration(ns), nil
}

// TestHostsTalk: the hosts have their names and /etc/hosts, reach each
// other at their TEST-NET-1 addresses, not on each other's loopback, and
// stop reaching each other when the link is cut, until it is restored.
func TestHostsTalk(t *testing.T) {
	p := New(t, Options{})
	for _, h := range []*Host{p.A, p.B} {
		name, err := h.Output("hostname")
		if err != nil || strings.TrimSpace(name) != h.Name {
			t.Fatalf("host name on %s: %q, %v", h.NS, name, err)
		}
		for _, other := range []*Host{h, h.Peer} {
			got, err := h.Output("getent", "hosts", other.Name)
			if err != nil || strings.Fields(got)[0] != other.Addr {
				t.Fatalf("on %s, %s resolves to %q (%v), want %s", h.Name, other.Name, got, err, other.Addr)
			}
		}
	}
	serve(t, p.A, "0.0.0.0:7000")
	serve(t, p.A, "127.0.0.1:7001")
	if _, err := dial(p.B, AddrA+":7000", 3); err != nil {
		t.Fatalf("hostb cannot reach hosta: %v", err)
	}
	if _, err := dial(p.A, "127.0.0.1:7001", 1); err != nil {
		t.Fatalf("hosta cannot reach its own loopback: %v", err)
	}
	if _, err := dial(p.B, "127.0.0.1:7001", 1); err == nil {
		t.Fatal("hostb reached hosta's loopback: the hosts share a network stack")
	}
	if err := p.B.Cut(); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(p.B, AddrA+":7000", 1); err == nil {
		t.Fatal("hostb reached hosta over a cut link")
	}
	if err := p.B.Restore(); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(p.B, AddrA+":7000", 1); err != nil {
		t.Fatalf("hostb cannot reach hosta after the link was restored: %v", err)
	}
}

// TestShapedLinkDelays: with 20 ms added in each direction, a round trip
// takes at least 40 ms; with 1% loss as well, TCP still gets through.
func TestShapedLinkDelays(t *testing.T) {
	p := New(t, Options{Delay: 20 * time.Millisecond, Loss: 0.01})
	serve(t, p.A, "0.0.0.0:7000")
	rtt, err := dial(p.B, AddrA+":7000", 20)
	if err != nil {
		t.Fatal(err)
	}
	if rtt < 40*time.Millisecond {
		t.Fatalf("median round trip %v over a link of 20 ms each way, want ≥ 40 ms", rtt)
	}
	t.Logf("median round trip %v", rtt)
	if err := p.B.Cut(); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(p.B, AddrA+":7000", 1); err == nil {
		t.Fatal("hostb reached hosta over a cut shaped link")
	}
}

// TestShapedLinkLosesEverything: a link that drops every packet carries
// no connection.
func TestShapedLinkLosesEverything(t *testing.T) {
	p := New(t, Options{Loss: 1})
	serve(t, p.A, "0.0.0.0:7000")
	if _, err := dial(p.B, AddrA+":7000", 1); err == nil {
		t.Fatal("a connection crossed a link that loses every packet")
	}
}

// TestDebianHosts: as on a Debian machine, a host's own name resolves to
// 127.0.1.1 there.
func TestDebianHosts(t *testing.T) {
	p := New(t, Options{DebianHosts: true})
	got, err := p.A.Output("getent", "hosts", "hosta")
	if err != nil || strings.Fields(got)[0] != "127.0.1.1" {
		t.Fatalf("hosta resolves to %q (%v) on hosta, want 127.0.1.1", got, err)
	}
	if got, err := p.B.Output("getent", "hosts", "hosta"); err != nil || strings.Fields(got)[0] != AddrA {
		t.Fatalf("hosta resolves to %q (%v) on hostb, want %s", got, err, AddrA)
	}
}

// TestCleanupRemovesEverything: when a test ends, its namespaces, their
// files and the processes it left running on the hosts are gone; two pairs
// at once do not collide.
func TestCleanupRemovesEverything(t *testing.T) {
	var names []string
	var pids []int
	t.Run("pairs", func(t *testing.T) {
		for _, o := range []Options{{}, {Shaped: true}} {
			p := New(t, o)
			for _, h := range []*Host{p.A, p.B} {
				cmd := h.Command(context.Background(), "sleep", "600")
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				go cmd.Wait()
				pids = append(pids, cmd.Process.Pid)
				names = append(names, h.NS)
			}
		}
	})
	for _, ns := range names {
		for _, path := range []string{filepath.Join("/run/netns", ns), filepath.Join("/etc/netns", ns)} {
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s is still there (%v)", path, err)
			}
		}
	}
	// Killed processes are reaped by their Wait; give it a moment.
	deadline := time.Now().Add(30 * time.Second)
	for _, pid := range pids {
		for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("process %d started on a host still runs", pid)
		}
	}
}

// TestAvailableSaysWhy: where the harness cannot run, the reason names
// what is missing.
func TestAvailableSaysWhy(t *testing.T) {
	found := func(string) (string, error) { return "/usr/bin/x", nil }
	if err := available(1000, found); err == nil || !strings.Contains(err.Error(), "need root") {
		t.Errorf("as uid 1000: %v, want a message that root is needed", err)
	}
	noIP := func(name string) (string, error) {
		if name == "ip" {
			return "", errors.New("executable file not found in $PATH")
		}
		return "/usr/bin/" + name, nil
	}
	if err := available(0, noIP); err == nil || !strings.Contains(err.Error(), "iproute2") || !strings.Contains(err.Error(), "make deps") {
		t.Errorf("without ip: %v, want a message naming iproute2 and make deps", err)
	}
	if err := available(0, found); err != nil {
		t.Errorf("as root with the tools: %v", err)
	}
}

// BenchmarkLink measures TCP throughput between the hosts: 64 MB echoed
// (so crossing the link both ways at once), over the veth pair and over
// the shaped TUN pair with no delay, which this process carries packet by
// packet.
//
//	sudo go test -run '^$' -bench Link ./internal/twohost/
func BenchmarkLink(b *testing.B) {
	for _, o := range []struct {
		name string
		opt  Options
	}{{"veth", Options{}}, {"shaped", Options{Shaped: true}}} {
		b.Run(o.name, func(b *testing.B) {
			p := New(b, o.opt)
			serveB(b, p.A, "0.0.0.0:7000")
			const mb = 64
			b.SetBytes(2 * mb << 20)
			for range b.N {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				cmd := p.B.Command(ctx, os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), roleEnv+fmt.Sprintf("=send %s:7000 %d", AddrA, mb))
				out, err := cmd.CombinedOutput()
				cancel()
				if err != nil {
					b.Fatalf("%v: %s", err, out)
				}
			}
		})
	}
}
