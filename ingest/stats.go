package ingest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"weaksup/atomicfile"
	"weaksup/store"
	"weaksup/workdir"
)

// maxHosts bounds the per-host table; further hosts are summed under
// otherHosts.
const (
	maxHosts   = 10000
	otherHosts = "(other hosts)"
	topHosts   = 100
)

// Stats describes one ingest run; it is written as JSON to
// <workdir>/ingest-stats/<start time>.json, and the pipeline keeps it in
// the stage record. Outcomes, LineErrors and Skipped are keyed by the
// Outcome*, Reason* and Skip* names.
type Stats struct {
	mu sync.Mutex

	Input    string    `json:"input"`
	Format   string    `json:"format"`
	Config   Config    `json:"config"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Seconds  float64   `json:"seconds"`

	RecordsRead     int64            `json:"records_read"`     // records the reader returned
	LineErrors      map[string]int64 `json:"line_errors"`      // lines that yielded no record, by reason
	LineExamples    []string         `json:"line_examples"`    // the first few of them
	Skipped         map[string]int64 `json:"skipped"`          // records not fetched in this run, by reason
	Outcomes        map[string]int64 `json:"outcomes"`         // records stored in this run, by outcome
	Requests        int64            `json:"requests"`         // HTTP requests made
	BytesDownloaded int64            `json:"bytes_downloaded"` // image bytes received
	BytesStored     int64            `json:"bytes_stored"`     // normalized JPEG bytes stored
	RecordsPerSec   float64          `json:"records_per_second"`
	ImagesPerSec    float64          `json:"images_per_second"`
	MBPerSec        float64          `json:"downloaded_mb_per_second"`
	Hosts           []HostStats      `json:"hosts"` // the hosts with the most requests

	hosts map[string]*HostStats
}

// HostStats are one host's figures in a run.
type HostStats struct {
	Host     string `json:"host"`
	Requests int64  `json:"requests"`
	OK       int64  `json:"ok"`
	Failed   int64  `json:"failed"`
	Bytes    int64  `json:"bytes"`
}

func newStats(cfg Config, format string) *Stats {
	return &Stats{
		Input: cfg.Input, Format: format, Config: cfg, Started: time.Now().UTC(),
		LineErrors: map[string]int64{}, Skipped: map[string]int64{}, Outcomes: map[string]int64{},
		hosts: map[string]*HostStats{},
	}
}

func (s *Stats) add(p *int64, n int64) {
	s.mu.Lock()
	*p += n
	s.mu.Unlock()
}

func (s *Stats) lineError(le *LineError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.LineErrors[le.Reason]++
	if len(s.LineExamples) < 20 && le.Reason != ReasonVideo {
		s.LineExamples = append(s.LineExamples, le.Error())
	}
}

func (s *Stats) skip(reason string) {
	s.mu.Lock()
	s.Skipped[reason]++
	s.mu.Unlock()
}

func (s *Stats) result(r result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Outcomes[r.Record.Outcome]++
	s.Requests += int64(r.Requests)
	s.BytesDownloaded += r.Bytes
	s.BytesStored += int64(len(r.JPEG))
	if r.Host == "" {
		return
	}
	h := s.hosts[r.Host]
	if h == nil {
		name := r.Host
		if len(s.hosts) >= maxHosts {
			name = otherHosts
		}
		if h = s.hosts[name]; h == nil {
			h = &HostStats{Host: name}
			s.hosts[name] = h
		}
	}
	h.Requests += int64(r.Requests)
	h.Bytes += r.Bytes
	if r.Record.OK() {
		h.OK++
	} else {
		h.Failed++
	}
}

func (s *Stats) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Finished = time.Now().UTC()
	s.Seconds = s.Finished.Sub(s.Started).Seconds()
	if s.Seconds > 0 {
		var n int64
		for _, v := range s.Outcomes {
			n += v
		}
		s.RecordsPerSec = float64(n) / s.Seconds
		s.ImagesPerSec = float64(s.Outcomes[store.OutcomeOK]) / s.Seconds
		s.MBPerSec = float64(s.BytesDownloaded) / 1e6 / s.Seconds
	}
	s.Hosts = s.Hosts[:0]
	for _, h := range s.hosts {
		s.Hosts = append(s.Hosts, *h)
	}
	sort.Slice(s.Hosts, func(i, j int) bool {
		if s.Hosts[i].Requests != s.Hosts[j].Requests {
			return s.Hosts[i].Requests > s.Hosts[j].Requests
		}
		return s.Hosts[i].Host < s.Hosts[j].Host
	})
	if len(s.Hosts) > topHosts {
		s.Hosts = s.Hosts[:topHosts]
	}
}

// Counts flattens the stats for display: records_read, requests,
// bytes_downloaded, bytes_stored, and the count of every outcome, line
// error and skip reason under its name.
func (s *Stats) Counts() map[string]int64 {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := map[string]int64{
		"records_read": s.RecordsRead, "requests": s.Requests,
		"bytes_downloaded": s.BytesDownloaded, "bytes_stored": s.BytesStored,
	}
	for _, m := range []map[string]int64{s.Outcomes, s.LineErrors, s.Skipped} {
		for k, v := range m {
			c[k] += v
		}
	}
	return c
}

func (s *Stats) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	for _, m := range []map[string]int64{s.Outcomes, s.Skipped, s.LineErrors} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return fmt.Sprintf("%d records read in %.1fs (%.1f images/s): %s", s.RecordsRead, s.Seconds, s.ImagesPerSec, strings.Join(parts, ", "))
}

// write stores the stats as JSON in the working directory's ingest-stats
// folder and returns the path.
func (s *Stats) write(wd workdir.Dir) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := wd.IngestStats()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("write ingest stats: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode ingest stats: %w", err)
	}
	path := filepath.Join(dir, s.Started.Format("20060102T150405.000Z")+".json")
	if err := atomicfile.WriteFile(path, append(b, '\n')); err != nil {
		return "", fmt.Errorf("write ingest stats: %w", err)
	}
	return path, nil
}
