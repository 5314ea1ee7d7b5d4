package storagetest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Fault is what the fault-injecting front of a fake server does to one
// request.
type Fault int

const (
	// Pass hands the request to the fake unchanged.
	Pass Fault = iota
	// ServerError answers 500 (S3's InternalError, or a GCS JSON error).
	ServerError
	// SlowDown answers 503: S3's SlowDown throttling error, or GCS's 503.
	SlowDown
	// Truncate sends the fake's headers, which promise the whole body,
	// then half of the body, then cuts the connection.
	Truncate
	// Shorten sends half of the body without a Content-Length and ends the
	// response cleanly: the client sees an ordinary end of body, early.
	// (Google's client reads the missing length as -1 and logs "received
	// N more bytes than requested" when such a reader is closed.)
	Shorten
	// Stall sends the headers and half of the body, then nothing until the
	// client gives up (or the server is closed).
	Stall
	// Refuse answers 403 (S3's AccessDenied, or a GCS JSON error).
	Refuse
	numFaults
)

func (f Fault) String() string {
	return [...]string{"pass", "500", "503 SlowDown", "truncated", "shortened", "stalled", "403"}[f]
}

// Plan decides the fault for a request; n counts the requests the plan
// has been asked about, from 0.
type Plan func(r *http.Request, n int) Fault

// Reads is a plan that applies faults in turn to ranged reads (GET with a
// Range header, which is how package storage reads object bytes) and lets
// every other request pass.
func Reads(faults ...Fault) Plan {
	var mu sync.Mutex
	i := 0
	return func(r *http.Request, _ int) Fault {
		if r.Method != http.MethodGet || r.Header.Get("Range") == "" || len(faults) == 0 {
			return Pass
		}
		mu.Lock()
		defer mu.Unlock()
		f := faults[i%len(faults)]
		i++
		return f
	}
}

// Writes is a plan that applies faults in turn to requests that carry an
// object's bytes (PUT and POST), and lets every other request pass.
func Writes(faults ...Fault) Plan {
	var mu sync.Mutex
	i := 0
	return func(r *http.Request, _ int) Fault {
		if (r.Method != http.MethodPut && r.Method != http.MethodPost) || len(faults) == 0 {
			return Pass
		}
		mu.Lock()
		defer mu.Unlock()
		f := faults[i%len(faults)]
		i++
		return f
	}
}

// Always applies f to every request.
func Always(f Fault) Plan { return func(*http.Request, int) Fault { return f } }

// Faults sits in front of a fake server's handler and breaks requests as
// its plan says. It is safe for concurrent use.
type Faults struct {
	s3      bool // error bodies in S3's XML, else GCS's JSON
	next    http.Handler
	release chan struct{}

	mu       sync.Mutex
	plan     Plan
	latency  time.Duration
	n        int
	injected [numFaults]int
}

// SetLatency delays every request by d before it is answered, as a
// service across a network does (time to first byte).
func (f *Faults) SetLatency(d time.Duration) {
	f.mu.Lock()
	f.latency = d
	f.mu.Unlock()
}

func newFaults(next http.Handler, s3 bool) *Faults {
	return &Faults{s3: s3, next: next, release: make(chan struct{})}
}

// Set replaces the plan; nil lets every request pass.
func (f *Faults) Set(p Plan) {
	f.mu.Lock()
	f.plan = p
	f.mu.Unlock()
}

// Injected is how many requests got fault k.
func (f *Faults) Injected(k Fault) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected[k]
}

// Requests is how many requests arrived.
func (f *Faults) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func (f *Faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	k := Pass
	if f.plan != nil {
		k = f.plan(r, f.n)
	}
	f.n++
	f.injected[k]++
	latency := f.latency
	f.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-f.release:
		}
		t.Stop()
	}

	switch k {
	case Pass:
		f.next.ServeHTTP(w, r)
	case ServerError:
		f.fail(w, http.StatusInternalServerError, "InternalError", "injected server error")
	case SlowDown:
		f.fail(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	case Refuse:
		f.fail(w, http.StatusForbidden, "AccessDenied", "Access Denied")
	case Truncate, Shorten, Stall:
		rec := httptest.NewRecorder()
		f.next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		for h, v := range rec.Header() {
			w.Header()[h] = v
		}
		half := body[:len(body)/2]
		if k == Shorten {
			w.Header().Del("Content-Length")
			w.WriteHeader(rec.Code)
			w.Write(half)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(half)
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		if k == Stall {
			select {
			case <-r.Context().Done():
			case <-f.release:
			}
		}
		// Leave the promise broken: the server drops the connection.
		panic(http.ErrAbortHandler)
	}
}

func (f *Faults) fail(w http.ResponseWriter, status int, code, msg string) {
	var b bytes.Buffer
	if f.s3 {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fault</RequestId></Error>`, code, msg)
	} else {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(&b, `{"error":{"code":%d,"message":%q,"errors":[{"reason":%q,"message":%q}]}}`, status, msg, code, msg)
	}
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// close lets stalled handlers return, so the server can shut down.
func (f *Faults) close() {
	select {
	case <-f.release:
	default:
		close(f.release)
	}
}
