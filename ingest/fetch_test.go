package ingest

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestOptedOut(t *testing.T) {
	tests := []struct {
		values []string
		want   bool
	}{
		{nil, false},
		{[]string{"noai"}, true},
		{[]string{"NoImageAI"}, true},
		{[]string{"noindex, nofollow"}, true},
		{[]string{"nofollow", "none"}, true},
		{[]string{"nofollow, noarchive"}, false},
		{[]string{"otherbot: noindex"}, false},
		{[]string{"otherbot: noindex, noai"}, false},
		{[]string{"otherbot: noindex", "weaksup: noai"}, true},
		{[]string{"WeakSup: noimageai"}, true},
		{[]string{"max-snippet: 20, noai"}, true},
		{[]string{"unavailable_after: 25 Jun 2010 15:00:00 PST"}, false},
		{[]string{"*: noindex"}, true},
	}
	for _, tt := range tests {
		if got := OptedOut(tt.values, userAgentToken); got != tt.want {
			t.Errorf("OptedOut(%q) = %v, want %v", tt.values, got, tt.want)
		}
	}
}

func TestPrivateIP(t *testing.T) {
	tests := map[string]bool{
		"127.0.0.1": true, "::1": true, "10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true,
		"169.254.169.254": true, "fe80::1": true, "224.0.0.1": true, "ff02::1": true, "0.0.0.0": true,
		"100.64.0.1": true, "fd00::1": true, "::ffff:127.0.0.1": true,
		"8.8.8.8": false, "2001:4860:4860::8888": false, "172.32.0.1": false, "100.128.0.1": false,
	}
	for ip, want := range tests {
		if got := PrivateIP(net.ParseIP(ip)); got != want {
			t.Errorf("PrivateIP(%s) = %v, want %v", ip, got, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := map[string]time.Duration{
		"": 0, "7": 7 * time.Second, "-3": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	}
	for v, want := range tests {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestTransient(t *testing.T) {
	for outcome, want := range map[string]bool{
		"timeout": true, "too_slow": true, "conn_error": true, "truncated": true, "http_429": true, "http_500": true, "http_503": true, "http_408": true,
		"ok": false, "http_404": false, "http_410": false, "http_403": false, "decode_error": false, "robots_optout": false, "private_address": false,
	} {
		if got := Transient(outcome); got != want {
			t.Errorf("Transient(%q) = %v, want %v", outcome, got, want)
		}
	}
}

// TestHostLimiterForgetsIdleHosts checks that the per-host table does not
// grow with every host ever seen.
func TestHostLimiterForgetsIdleHosts(t *testing.T) {
	l := newHostLimiter(2, 0)
	ctx := context.Background()
	for i := range 100 {
		host := "h" + itoa(int64(i))
		if err := l.acquire(ctx, host); err != nil {
			t.Fatal(err)
		}
		l.release(host)
	}
	if n := len(l.hosts); n != 0 {
		t.Errorf("%d idle hosts remembered, want 0", n)
	}
	// A host whose slots are taken blocks until one is released.
	l.acquire(ctx, "busy")
	l.acquire(ctx, "busy")
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := l.acquire(short, "busy"); err == nil {
		t.Error("third acquire of a host with 2 slots succeeded")
	}
	l.release("busy")
	if err := l.acquire(ctx, "busy"); err != nil {
		t.Errorf("acquire after release: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	f := NewFetcher(FetchConfig{BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second})
	for n, hi := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 10: time.Second} {
		for range 20 {
			if d := f.backoff(n); d < hi/2 || d > hi {
				t.Errorf("backoff(%d) = %v, want within [%v, %v]", n, d, hi/2, hi)
			}
		}
	}
}
