package storagetest

import (
	"io"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"weaksup/storage"
)

// Server is a fake object store on loopback, behind a Faults front. It
// stops when the test ends.
type Server struct {
	// Scheme is storage.S3 or storage.GCS.
	Scheme storage.Scheme
	// Endpoint is the server's base URL, http://127.0.0.1:PORT.
	Endpoint string
	// Faults breaks requests on purpose; it passes everything until Set.
	Faults *Faults
}

// StartS3 starts gofakes3 (in memory) with the given buckets.
func StartS3(t testing.TB, buckets ...string) *Server {
	t.Helper()
	backend := s3mem.New()
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatalf("create fake S3 bucket %s: %v", b, err)
		}
	}
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	f := newFaults(faker.Server(), true)
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	t.Cleanup(f.close) // runs first: stalled handlers return
	return &Server{Scheme: storage.S3, Endpoint: ts.URL, Faults: f}
}

// StartGCS starts fake-gcs-server's fakestorage (in memory) with the
// given buckets, serving both its JSON API and object downloads.
func StartGCS(t testing.TB, buckets ...string) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for fake GCS: %v", err)
	}
	addr := l.Addr().String()
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		NoListener:  true,
		Scheme:      "http",
		ExternalURL: "http://" + addr, // resumable uploads come back here
		PublicHost:  addr,             // object downloads are served at /BUCKET/KEY
		Writer:      io.Discard,
	})
	if err != nil {
		l.Close()
		t.Fatalf("start fake GCS: %v", err)
	}
	for _, b := range buckets {
		fake.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b})
	}
	f := newFaults(fake.HTTPHandler(), false)
	ts := httptest.NewUnstartedServer(f)
	ts.Listener.Close()
	ts.Listener = l
	ts.Start()
	t.Cleanup(fake.Stop)
	t.Cleanup(ts.Close)
	t.Cleanup(f.close)
	return &Server{Scheme: storage.GCS, Endpoint: ts.URL, Faults: f}
}

// URL is the location of prefix in bucket on this server, such as
// s3://BUCKET/PREFIX.
func (s *Server) URL(bucket, prefix string) string {
	u := string(s.Scheme) + "://" + bucket
	if prefix != "" {
		u += "/" + prefix
	}
	return u
}

// Options reach the server explicitly, with retries fast enough for
// tests: backoff from 1 ms to 50 ms, and a 2 s stall timeout. Generous
// attempts let a plan that fails every other request still succeed.
func (s *Server) Options() *storage.Options {
	return &storage.Options{
		Endpoint:       s.Endpoint,
		Attempts:       8,
		InitialBackoff: time.Millisecond,
		MaxBackoff:     50 * time.Millisecond,
		StallTimeout:   2 * time.Second,
	}
}

// Credentials sets the environment so that the providers' default chains
// find test credentials at once and look nowhere else (no config files,
// no instance metadata service): for S3, a fixed key pair and region.
// Tests that call it cannot run in parallel.
func Credentials(t testing.TB) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":              "weaksup-test",
		"AWS_SECRET_ACCESS_KEY":          "weaksup-test-secret",
		"AWS_REGION":                     "us-east-1",
		"AWS_EC2_METADATA_DISABLED":      "true",
		"AWS_CONFIG_FILE":                "/nonexistent/weaksup-test/config",
		"AWS_SHARED_CREDENTIALS_FILE":    "/nonexistent/weaksup-test/credentials",
		"AWS_ENDPOINT_URL":               "",
		"AWS_ENDPOINT_URL_S3":            "",
		"STORAGE_EMULATOR_HOST":          "",
		"GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/weaksup-test/adc.json",
	} {
		t.Setenv(k, v)
	}
}

// Env is Credentials plus the endpoint the way each ecosystem reads it
// from the environment: AWS_ENDPOINT_URL for S3, STORAGE_EMULATOR_HOST
// (host:port) for GCS. Tests that call it cannot run in parallel.
func (s *Server) Env(t testing.TB) {
	t.Helper()
	Credentials(t)
	switch s.Scheme {
	case storage.S3:
		t.Setenv("AWS_ENDPOINT_URL", s.Endpoint)
	case storage.GCS:
		t.Setenv("STORAGE_EMULATOR_HOST", s.Endpoint[len("http://"):])
	}
}
