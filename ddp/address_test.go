package ddp

import (
	"strings"
	"testing"

	"weaksup/torch"
)

func TestAdvertisedAddressOnLoopback(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "localhost", "127.0.1.1"} {
		p, err := AdvertisedAddress(torch.Rendezvous{Addr: addr, Port: 29500}, envOf())
		if err != nil || p.Addr != "127.0.0.1" {
			t.Errorf("MASTER_ADDR=%s: %+v, %v; want 127.0.0.1", addr, p, err)
		}
	}
}

func TestAdvertisedAddressNamesMissingInterface(t *testing.T) {
	_, err := AdvertisedAddress(torch.Rendezvous{Addr: "192.0.2.1", Port: 29500}, envOf(EnvGlooIfname, "nosuch0"))
	if err == nil || !strings.Contains(err.Error(), "$GLOO_SOCKET_IFNAME=nosuch0") || !strings.Contains(err.Error(), "the interfaces here: ") {
		t.Fatalf("error %v, want one naming $GLOO_SOCKET_IFNAME=nosuch0 and the interfaces there are", err)
	}
	p, err := AdvertisedAddress(torch.Rendezvous{Addr: "192.0.2.1", Port: 29500}, envOf(EnvGlooIfname, "lo"))
	if err != nil || p.Addr != "127.0.0.1" || p.From != "$GLOO_SOCKET_IFNAME=lo" {
		t.Fatalf("GLOO_SOCKET_IFNAME=lo: %+v, %v; want lo's 127.0.0.1", p, err)
	}
}

func TestCheckAdvertised(t *testing.T) {
	a := torch.Peer{Rank: 0, Host: "hosta", Addr: "192.0.2.1", Stack: "boot/net:1", Master: "192.0.2.1"}
	b := torch.Peer{Rank: 1, Host: "hostb", Addr: "192.0.2.2", Stack: "boot/net:2", Master: "192.0.2.1"}
	loA := torch.Peer{Rank: 0, Host: "hosta", Addr: "127.0.0.1", Stack: "boot/net:1", Master: "127.0.1.1",
		From: "MASTER_ADDR=hosta resolves to the loopback address 127.0.1.1 on hosta"}
	loA1 := loA
	loA1.Rank = 1
	for _, tc := range []struct {
		name  string
		peers []torch.Peer
		want  []string // nil: no error
	}{
		{"two hosts", []torch.Peer{a, b}, nil},
		{"one host on loopback", []torch.Peer{loA, loA1}, nil},
		{"loopback with another host", []torch.Peer{loA, b}, []string{"rank 0 on hosta would advertise the loopback address 127.0.0.1 to rank 1 on another host (hostb)",
			"MASTER_ADDR=hosta resolves to the loopback address 127.0.1.1 on hosta", "rank 1 on hostb reaches that host at 192.0.2.1",
			"$GLOO_SOCKET_IFNAME on hosta"}},
	} {
		err := CheckAdvertised(tc.peers)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
	}
}

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}
