package ddp

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"weaksup/torch"
)

// EnvGlooIfname names the interfaces Gloo binds, as in PyTorch.
const EnvGlooIfname = "GLOO_SOCKET_IFNAME"

// resolveTimeout bounds the lookup of MASTER_ADDR.
const resolveTimeout = 30 * time.Second

// AdvertisedAddress chooses the address this rank's Gloo binds and tells
// the other ranks, with no configuration:
//
//   - $GLOO_SOCKET_IFNAME, when set, names the interface (Gloo binds it;
//     the address returned is its first, for the checks);
//   - MASTER_ADDR on this machine's loopback: 127.0.0.1 (every rank is
//     local);
//   - otherwise the address of the interface this host's route to
//     MASTER_ADDR leaves by: the one the kernel would give a connection
//     there, so the one the other hosts reach.
//
// The Peer's From says which, for messages. When MASTER_ADDR resolves to a
// loopback address on this host although it names a host (Debian's
// /etc/hosts maps the machine's own name to 127.0.1.1), the address is the
// loopback one: fine while every rank is on this host, and an error of
// CheckAdvertised once ranks on other hosts join.
func AdvertisedAddress(rv torch.Rendezvous, getenv func(string) string) (torch.Peer, error) {
	if ifname := getenv(EnvGlooIfname); ifname != "" {
		first := strings.Split(ifname, ",")[0]
		ifi, err := net.InterfaceByName(first)
		if err != nil {
			return torch.Peer{}, fmt.Errorf("check $%s=%s: %w (the interfaces here: %s)", EnvGlooIfname, ifname, err, interfaceNames())
		}
		addr, err := interfaceAddr(ifi)
		if err != nil {
			return torch.Peer{}, fmt.Errorf("check $%s=%s: %w", EnvGlooIfname, ifname, err)
		}
		return torch.Peer{Addr: addr, From: fmt.Sprintf("$%s=%s", EnvGlooIfname, ifname)}, nil
	}
	if isLoopbackName(rv.Addr) {
		return torch.Peer{Addr: "127.0.0.1", Master: rv.Addr, From: fmt.Sprintf("MASTER_ADDR=%s is this host's loopback", rv.Addr)}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, rv.Addr)
	if err != nil || len(ips) == 0 {
		return torch.Peer{}, fmt.Errorf("resolve MASTER_ADDR=%s: %v", rv.Addr, err)
	}
	master := ips[0].IP
	for _, ip := range ips {
		if ip.IP.To4() != nil {
			master = ip.IP
			break
		}
	}
	// A UDP "connection" sends nothing: it only asks the kernel for the
	// route, and so the local address.
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: master, Port: rv.Port})
	if err != nil {
		return torch.Peer{}, fmt.Errorf("find the route to MASTER_ADDR=%s (%s): %w", rv.Addr, master, err)
	}
	local := c.LocalAddr().(*net.UDPAddr).IP
	c.Close()
	named := "MASTER_ADDR=" + rv.Addr
	if rv.Addr != master.String() {
		named += " (" + master.String() + ")"
	}
	host, _ := os.Hostname()
	p := torch.Peer{Addr: local.String(), Master: master.String()}
	switch {
	case local.IsLoopback() && !master.IsLoopback():
		p.From = fmt.Sprintf("the route to %s leaves %s by the loopback interface", named, host)
	case local.IsLoopback():
		p.From = fmt.Sprintf("MASTER_ADDR=%s resolves to the loopback address %s on %s", rv.Addr, master, host)
	default:
		p.From = fmt.Sprintf("the route to %s leaves by %s", named, interfaceOf(local))
	}
	return p, nil
}

// CheckAdvertised fails when a rank advertises a loopback address while
// ranks run on other hosts (network stacks), which cannot reach it. The
// error names the rank, its host, the address, the host name that
// resolved to it, and $GLOO_SOCKET_IFNAME.
func CheckAdvertised(peers []torch.Peer) error {
	for _, p := range peers {
		ip := net.ParseIP(p.Addr)
		if ip == nil || !ip.IsLoopback() {
			continue
		}
		for _, q := range peers {
			if q.Stack == p.Stack {
				continue
			}
			reach := ""
			if q.Master != "" && !net.ParseIP(q.Master).IsLoopback() {
				reach = fmt.Sprintf("; rank %d on %s reaches that host at %s", q.Rank, q.Host, q.Master)
			}
			return fmt.Errorf("rank %d on %s would advertise the loopback address %s to rank %d on another host (%s), which cannot reach it: "+
				"%s%s; set MASTER_ADDR to an address every host reaches, or $%s on %s to the interface the other hosts reach "+
				"(Debian's /etc/hosts maps a machine's own name to 127.0.1.1)",
				p.Rank, p.Host, p.Addr, q.Rank, q.Host, p.From, reach, EnvGlooIfname, p.Host)
		}
	}
	return nil
}

func isLoopbackName(addr string) bool {
	if addr == "localhost" {
		return true
	}
	ip := net.ParseIP(addr)
	return ip != nil && ip.IsLoopback()
}

// interfaceAddr is the interface's first IPv4 address, else its first.
func interfaceAddr(ifi *net.Interface) (string, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return "", err
	}
	var first string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if n.IP.To4() != nil {
				return n.IP.String(), nil
			}
			if first == "" {
				first = n.IP.String()
			}
		}
	}
	if first == "" {
		return "", fmt.Errorf("interface %s has no address", ifi.Name)
	}
	return first, nil
}

// interfaceOf names the interface that holds ip ("eth0 (10.0.0.5)").
func interfaceOf(ip net.IP) string {
	ifs, _ := net.Interfaces()
	for _, ifi := range ifs {
		addrs, _ := ifi.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return ifi.Name + " (" + ip.String() + ")"
			}
		}
	}
	return ip.String()
}

func interfaceNames() string {
	ifs, _ := net.Interfaces()
	var names []string
	for _, ifi := range ifs {
		names = append(names, ifi.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
