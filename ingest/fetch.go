package ingest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// FetchConfig sets how politely and how patiently a Fetcher fetches.
type FetchConfig struct {
	UserAgent      string        // sent with every request; names weaksup and a contact
	AllowPrivate   bool          // allow loopback, private, link-local and multicast addresses
	ConnectTimeout time.Duration // TCP connect
	HeaderTimeout  time.Duration // from request sent to response headers
	Timeout        time.Duration // one attempt, headers and body
	SpeedLimit     int64         // a body slower than this many bytes/s over SpeedTime ends with OutcomeTooSlow; 0 = no limit
	SpeedTime      time.Duration // the window of SpeedLimit (curl's --speed-limit and --speed-time)
	MaxBodyBytes   int64         // larger bodies end with OutcomeTooLarge
	MaxRedirects   int
	PerHost        int           // concurrent requests per host
	HostInterval   time.Duration // minimum time between request starts to one host; 0 = none
	Retries        int           // further tries of a transient failure within one Fetch (a timeout: at most one)
	BackoffBase    time.Duration // first retry waits about this long, doubling after
	BackoffMax     time.Duration // no wait is longer; a longer Retry-After ends the Fetch
}

// Fetch outcomes: why a record failed. Success is store.OutcomeOK, which
// the crawl sets once the image is stored.
const (
	OutcomeBadURL           = "bad_url"
	OutcomeBadScheme        = "bad_scheme"
	OutcomePrivateAddress   = "private_address"
	OutcomeDNSError         = "dns_error"
	OutcomeConnError        = "conn_error"
	OutcomeTLSError         = "tls_error"
	OutcomeTimeout          = "timeout"  // no headers within HeaderTimeout, or not done within Timeout
	OutcomeTooSlow          = "too_slow" // the body arrived below SpeedLimit for SpeedTime
	OutcomeTooManyRedirects = "too_many_redirects"
	OutcomeRobotsOptOut     = "robots_optout"
	OutcomeTooLarge         = "too_large"
	OutcomeTruncated        = "truncated"
	OutcomeHTTP429          = "http_429"
)

// Transient reports whether an outcome may succeed when tried again later:
// timeouts, too slow transfers, connection errors, truncated bodies, 408,
// 429 and 5xx.
func Transient(outcome string) bool {
	switch outcome {
	case OutcomeTimeout, OutcomeTooSlow, OutcomeConnError, OutcomeTruncated, OutcomeHTTP429, "http_408":
		return true
	}
	return strings.HasPrefix(outcome, "http_5")
}

// ErrPrivateAddress is returned when a host resolves to an address the
// fetcher refuses (see FetchConfig.AllowPrivate).
var ErrPrivateAddress = errors.New("refusing private, loopback, link-local or multicast address")

var errTooManyRedirects = errors.New("too many redirects")
var errRedirectScheme = errors.New("redirect to a non-http(s) URL")

// Fetcher fetches image bytes over HTTP. It is safe for concurrent use.
type Fetcher struct {
	cfg    FetchConfig
	client *http.Client
	hosts  *hostLimiter
}

// NewFetcher returns a fetcher with its own connection pool.
func NewFetcher(cfg FetchConfig) *Fetcher {
	if cfg.PerHost <= 0 {
		cfg.PerHost = 1
	}
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		dialer.Control = refusePrivate
	}
	tr := &http.Transport{
		Proxy:                 nil, // the private-address check must see the real peer
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   cfg.PerHost,
		IdleConnTimeout:       60 * time.Second,
		TLSHandshakeTimeout:   cfg.ConnectTimeout + time.Second,
		ResponseHeaderTimeout: cfg.HeaderTimeout,
		DisableCompression:    true, // hash exactly the bytes the server sends
	}
	f := &Fetcher{cfg: cfg, hosts: newHostLimiter(cfg.PerHost, cfg.HostInterval)}
	f.client = &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > cfg.MaxRedirects {
				return errTooManyRedirects
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return errRedirectScheme
			}
			return nil
		},
	}
	return f
}

// Close releases idle connections.
func (f *Fetcher) Close() { f.client.CloseIdleConnections() }

// refusePrivate is a dialer hook: it sees the resolved address of every
// connection, redirects included, so DNS tricks cannot reach the inside.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || PrivateIP(ip) {
		return fmt.Errorf("dial %s: %w", address, ErrPrivateAddress)
	}
	return nil
}

var sharedAddress = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}
var thisNetwork = &net.IPNet{IP: net.IPv4(0, 0, 0, 0), Mask: net.CIDRMask(8, 32)}

// PrivateIP reports whether ip is loopback, private, link-local,
// multicast, unspecified or carrier-grade NAT space.
func PrivateIP(ip net.IP) bool {
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() ||
		sharedAddress.Contains(ip) || thisNetwork.Contains(ip)
}

// Response is what one Fetch ended with.
type Response struct {
	Body     []byte // the image bytes when Outcome is ""
	Outcome  string // "" when the body was fetched, else a reason
	Status   int    // the last HTTP status, 0 when none arrived
	Attempts int    // requests made
	Host     string
}

// timedOut reports whether an outcome is a request that ran out of time:
// Fetch tries those at most maxTimedOutTries times, since a host that is
// slow now is most likely still slow a second later.
func timedOut(outcome string) bool { return outcome == OutcomeTimeout || outcome == OutcomeTooSlow }

// maxTimedOutTries bounds the requests of one Fetch that may time out: a
// timed-out request is retried once, and later runs try again.
const maxTimedOutTries = 2

// Fetch gets url, retrying transient failures with backoff, making at most
// tries requests (1 + FetchConfig.Retries when tries <= 0), of which at
// most two time out. It returns an error only when ctx ends; every other
// failure is an Outcome.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string, tries int) (Response, error) {
	if tries <= 0 {
		tries = 1 + f.cfg.Retries
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return Response{Outcome: OutcomeBadURL}, nil
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Response{Outcome: OutcomeBadScheme}, nil
	}
	resp := Response{Host: u.Hostname()}
	timeouts := 0
	for {
		resp.Attempts++
		if err := f.hosts.acquire(ctx, resp.Host); err != nil {
			return resp, err
		}
		var retryAfter time.Duration
		resp.Body, resp.Status, resp.Outcome, retryAfter = f.once(ctx, u)
		f.hosts.release(resp.Host)
		if err := ctx.Err(); err != nil {
			return resp, err
		}
		if timedOut(resp.Outcome) {
			timeouts++
		}
		if resp.Outcome == "" || !Transient(resp.Outcome) || resp.Attempts >= tries || timeouts >= maxTimedOutTries {
			return resp, nil
		}
		d := f.backoff(resp.Attempts)
		if retryAfter > f.cfg.BackoffMax {
			return resp, nil // the server asks for more patience than we have now
		}
		d = max(d, retryAfter)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return resp, ctx.Err()
		case <-t.C:
		}
	}
}

// backoff is the wait before try n+1: exponential with jitter in [d/2, d].
func (f *Fetcher) backoff(n int) time.Duration {
	d := f.cfg.BackoffBase << min(n-1, 20)
	if d > f.cfg.BackoffMax || d <= 0 {
		d = f.cfg.BackoffMax
	}
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// once makes one request.
func (f *Fetcher) once(ctx context.Context, u *url.URL) (body []byte, status int, outcome string, retryAfter time.Duration) {
	if f.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.cfg.Timeout)
		defer cancel()
	}
	ctx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, OutcomeBadURL, 0
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	req.Header.Set("Accept", "image/jpeg,image/png,image/gif,image/webp;q=0.9,*/*;q=0.1")
	res, err := f.client.Do(req)
	if err != nil {
		return nil, 0, classify(err), 0
	}
	defer res.Body.Close()
	status = res.StatusCode
	if status != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10)) // let the connection be reused
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			retryAfter = parseRetryAfter(res.Header.Get("Retry-After"), time.Now())
		}
		return nil, status, "http_" + strconv.Itoa(status), retryAfter
	}
	if OptedOut(res.Header.Values("X-Robots-Tag"), userAgentToken) {
		return nil, status, OutcomeRobotsOptOut, 0
	}
	if res.ContentLength > f.cfg.MaxBodyBytes {
		return nil, status, OutcomeTooLarge, 0
	}
	n := res.ContentLength
	if n < 0 || n > 1<<20 {
		n = 64 << 10
	}
	buf := make([]byte, 0, n+1) // +1 so a body of the declared size needs no regrowth to see EOF
	watch := watchSpeed(f.cfg.SpeedLimit, f.cfg.SpeedTime, func() { abort(errTooSlow) })
	body, err = readAllLimit(watch.Reader(res.Body), buf, f.cfg.MaxBodyBytes)
	watch.Stop()
	if err != nil {
		switch {
		case errors.Is(err, errBodyTooLarge):
			return nil, status, OutcomeTooLarge, 0
		case errors.Is(context.Cause(ctx), errTooSlow):
			return nil, status, OutcomeTooSlow, 0
		}
		return nil, status, classify(err), 0
	}
	return body, status, "", 0
}

var errBodyTooLarge = errors.New("body too large")

func readAllLimit(r io.Reader, b []byte, limit int64) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return nil, errBodyTooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// classify maps a request or body error to an outcome.
func classify(err error) string {
	var dnsErr *net.DNSError
	var tlsErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrPrivateAddress):
		return OutcomePrivateAddress
	case errors.Is(err, errTooManyRedirects):
		return OutcomeTooManyRedirects
	case errors.Is(err, errRedirectScheme):
		return OutcomeBadScheme
	case errors.Is(err, context.DeadlineExceeded):
		return OutcomeTimeout
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return OutcomeDNSError
		}
		return OutcomeConnError
	case errors.As(err, &tlsErr), errors.As(err, &recErr):
		return OutcomeTLSError
	case errors.As(err, &netErr) && netErr.Timeout():
		return OutcomeTimeout
	case errors.Is(err, io.ErrUnexpectedEOF):
		return OutcomeTruncated
	}
	return OutcomeConnError
}

// parseRetryAfter reads a Retry-After value: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(min(s, 1<<30)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
