package torch

import (
	"strings"
	"testing"
)

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestRendezvousFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  func(string) string
		ok   bool
		want Rendezvous
		err  string
	}{
		{"none", envOf(), false, Rendezvous{}, ""},
		{"torchrun", envOf("RANK", "1", "WORLD_SIZE", "4", "LOCAL_RANK", "1", "LOCAL_WORLD_SIZE", "2", "MASTER_ADDR", "node1", "MASTER_PORT", "29400"), true,
			Rendezvous{Addr: "node1", Port: 29400, Rank: 1, World: 4, LocalRank: 1, LocalWorld: 2, Source: "env"}, ""},
		{"agent store", envOf("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "4000",
			"TORCHELASTIC_USE_AGENT_STORE", "True", "TORCHELASTIC_RESTART_COUNT", "2"), true,
			Rendezvous{Addr: "127.0.0.1", Port: 4000, Rank: 0, World: 2, AgentStore: true, Prefix: "/worker/attempt_2", Source: "env"}, ""},
		{"single process", envOf("RANK", "0", "WORLD_SIZE", "1"), true,
			Rendezvous{Addr: "127.0.0.1", Port: DefaultMasterPort, World: 1, Source: "env"}, ""},
		{"slurm", envOf("SLURM_PROCID", "5", "SLURM_NTASKS", "8", "SLURM_LOCALID", "1", "SLURM_STEP_ID", "0",
			"SLURM_STEP_NODELIST", "gpu[07-09,12],cpu3", "SLURM_JOB_ID", "123456"), true,
			Rendezvous{Addr: "gpu07", Port: 20000 + 123456%20000, Rank: 5, World: 8, LocalRank: 1, Source: "slurm"}, ""},
		{"slurm with master", envOf("SLURM_PROCID", "0", "SLURM_NTASKS", "2", "SLURM_STEP_ID", "0", "MASTER_ADDR", "head", "MASTER_PORT", "1234"), true,
			Rendezvous{Addr: "head", Port: 1234, World: 2, Source: "slurm"}, ""},
		{"slurm batch step", envOf("SLURM_PROCID", "0", "SLURM_NTASKS", "4"), false, Rendezvous{}, ""},
		{"rank outside", envOf("RANK", "2", "WORLD_SIZE", "2", "MASTER_ADDR", "h"), false, Rendezvous{}, "outside world size 2"},
		{"no master", envOf("RANK", "0", "WORLD_SIZE", "2"), false, Rendezvous{}, "MASTER_ADDR is not set"},
		{"bad port", envOf("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "x"), false, Rendezvous{}, "$MASTER_PORT=\"x\": not an integer"},
		{"port range", envOf("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "70000"), false, Rendezvous{}, "outside 1–65535"},
		{"no world", envOf("RANK", "0"), false, Rendezvous{}, "WORLD_SIZE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := RendezvousFromEnv(tc.env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || ok != tc.ok || got != tc.want {
				t.Fatalf("got %+v, %v, %v; want %+v, %v", got, ok, err, tc.want, tc.ok)
			}
		})
	}
}

func TestFirstHost(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"node1", "node1"},
		{"node1,node2", "node1"},
		{"gpu[07-09,12],cpu3", "gpu07"},
		{"rack[2,4]-n[010-012]", "rack2-n010"},
		{"a[3]", "a3"},
	} {
		got, err := FirstHost(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("FirstHost(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "gpu[1-2", "gpu[]"} {
		if _, err := FirstHost(bad); err == nil {
			t.Errorf("FirstHost(%q): no error", bad)
		}
	}
}
