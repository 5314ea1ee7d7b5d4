package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Version names this crawler in its User-Agent.
const Version = "1.0"

// Config configures the ingest stage. It is JSON-serializable; the
// pipeline keeps it in the stage record.
type Config struct {
	Input   string  `json:"input"`
	Format  string  `json:"format"`
	Columns Columns `json:"columns"`

	Concurrency    int           `json:"concurrency"`     // requests in flight
	PerHost        int           `json:"per_host"`        // requests in flight per host
	HostInterval   time.Duration `json:"host_interval"`   // minimum gap between request starts per host
	ConnectTimeout time.Duration `json:"connect_timeout"` //
	HeaderTimeout  time.Duration `json:"header_timeout"`  //
	FetchTimeout   time.Duration `json:"fetch_timeout"`   // one attempt, headers and body
	SpeedLimit     int64         `json:"speed_limit"`     // bytes/s a body must keep up over SpeedTime
	SpeedTime      time.Duration `json:"speed_time"`      //
	MaxBodyBytes   int64         `json:"max_body_bytes"`  //
	MaxRedirects   int           `json:"max_redirects"`   //
	Retries        int           `json:"retries"`         // transient failures retried within a run
	BackoffBase    time.Duration `json:"backoff_base"`    //
	BackoffMax     time.Duration `json:"backoff_max"`     //
	MaxAttempts    int           `json:"max_attempts"`    // requests per record over all runs
	AllowPrivate   bool          `json:"allow_private"`   //
	Contact        string        `json:"contact"`         // put in the User-Agent
	ImageSize      int           `json:"image_size"`      // shorter side; 0 keeps originals
	Quality        int           `json:"quality"`         // JPEG quality
	MaxPixels      int64         `json:"max_pixels"`      //
	MinSide        int           `json:"min_side"`        //
	MaxAspect      int           `json:"max_aspect"`      //
	Partition      string        `json:"partition"`       // "i/N": crawl the ids that hash to i of N
	MaxRecords     int64         `json:"max_records"`     // stop after this many input records; 0 = all
	FlushRecords   int           `json:"flush_records"`   // store batch size
	FlushInterval  time.Duration `json:"flush_interval"`  // longest time a fetched record waits for the store
}

// DefaultConfig returns the defaults the flags show.
func DefaultConfig() Config {
	return Config{
		Format:         FormatAuto,
		Concurrency:    64,
		PerHost:        8,
		ConnectTimeout: 10 * time.Second,
		HeaderTimeout:  15 * time.Second,
		FetchTimeout:   60 * time.Second,
		SpeedLimit:     1000,
		SpeedTime:      5 * time.Second,
		MaxBodyBytes:   20 << 20,
		MaxRedirects:   5,
		Retries:        2,
		BackoffBase:    500 * time.Millisecond,
		BackoffMax:     30 * time.Second,
		MaxAttempts:    6,
		ImageSize:      256,
		Quality:        90,
		MaxPixels:      50_000_000,
		MinSide:        64,
		MaxAspect:      10,
		FlushRecords:   256,
		FlushInterval:  time.Second,
	}
}

// RegisterFlags registers the ingest flags on fs with c's current values
// as defaults (DefaultConfig's when c is the zero Config).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	if c.Concurrency == 0 && c.Format == "" {
		*c = DefaultConfig()
	}
	fs.StringVar(&c.Input, "input", c.Input, "records to crawl: JSONL, CSV, TSV, YFCC100M dataset file or Parquet; gzip/zstd read directly")
	fs.StringVar(&c.Format, "format", c.Format, "input format: "+strings.Join(Formats, ", ")+" (auto: from the file name)")
	fs.StringVar(&c.Columns.ID, "id-col", c.Columns.ID, "id column or field (default: id, key, photoid or image_id)")
	fs.StringVar(&c.Columns.URL, "url-col", c.Columns.URL, "URL column or field (default: url, image_url, downloadurl or photo_url)")
	fs.StringVar(&c.Columns.Tags, "tags-col", c.Columns.Tags, "tags column or field (default: tags, hashtags or user_tags)")
	fs.StringVar(&c.Columns.Caption, "caption-col", c.Columns.Caption, "caption column or field, hashtags are taken from it (default: caption, text or title)")
	fs.IntVar(&c.Concurrency, "concurrency", c.Concurrency, "requests in flight")
	fs.IntVar(&c.PerHost, "per-host", c.PerHost, "requests in flight per host")
	fs.DurationVar(&c.HostInterval, "per-host-interval", c.HostInterval, "minimum time between requests to one host (e.g. 200ms = 5 requests/s; 0 = no limit)")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", c.ConnectTimeout, "TCP connect timeout")
	fs.DurationVar(&c.HeaderTimeout, "header-timeout", c.HeaderTimeout, "time to wait for response headers")
	fs.DurationVar(&c.FetchTimeout, "fetch-timeout", c.FetchTimeout, "time for one request, headers and body")
	fs.Int64Var(&c.SpeedLimit, "speed-limit", c.SpeedLimit, "abort a download slower than this many bytes/s over --speed-time, as curl does (below 1 kB/s a 60 kB image misses --fetch-timeout anyway; 0 = no limit)")
	fs.DurationVar(&c.SpeedTime, "speed-time", c.SpeedTime, "the window of --speed-limit: a stalled or drip-fed download ends after about this long")
	fs.Int64Var(&c.MaxBodyBytes, "max-body", c.MaxBodyBytes, "largest image download in bytes")
	fs.IntVar(&c.MaxRedirects, "max-redirects", c.MaxRedirects, "redirects followed per request")
	fs.IntVar(&c.Retries, "retries", c.Retries, "retries of a 429, 5xx or dropped connection within one run; a timeout or too slow download is retried at most once (later runs try again, up to --max-attempts)")
	fs.DurationVar(&c.BackoffBase, "backoff", c.BackoffBase, "first retry delay, doubled for each retry, with jitter")
	fs.DurationVar(&c.BackoffMax, "backoff-max", c.BackoffMax, "longest retry delay; a longer Retry-After defers the record to the next run")
	fs.IntVar(&c.MaxAttempts, "max-attempts", c.MaxAttempts, "requests per record over all runs before a transient failure is final")
	fs.BoolVar(&c.AllowPrivate, "allow-private", c.AllowPrivate, "fetch from loopback, private and link-local addresses (local mirrors, tests)")
	fs.StringVar(&c.Contact, "contact", c.Contact, "contact (URL or e-mail) put in the User-Agent so site owners can reach you")
	fs.Var((*sizeFlag)(&c.ImageSize), "image-size", "shorter side of stored images in pixels, or none to keep originals")
	fs.IntVar(&c.Quality, "quality", c.Quality, "JPEG quality of stored images (1-100)")
	fs.Int64Var(&c.MaxPixels, "max-pixels", c.MaxPixels, "refuse images with more pixels than this, read from the header before decoding")
	fs.IntVar(&c.MinSide, "min-side", c.MinSide, "refuse images whose shorter side is smaller")
	fs.IntVar(&c.MaxAspect, "max-aspect", c.MaxAspect, "refuse images whose longer side is more than this many times the shorter (0 = no limit)")
	fs.StringVar(&c.Partition, "ingest-partition", c.Partition, "crawl only partition i/N of the records (by id hash), e.g. 3/16")
	fs.Int64Var(&c.MaxRecords, "max-records", c.MaxRecords, "stop after this many input records (0 = all)")
}

// sizeFlag is an image size flag that accepts "none" for 0.
type sizeFlag int

func (s *sizeFlag) String() string {
	if s == nil || *s == 0 {
		return "none"
	}
	return strconv.Itoa(int(*s))
}

func (s *sizeFlag) Set(v string) error {
	if v == "none" || v == "0" {
		*s = 0
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Errorf("want a positive number of pixels or none, got %q", v)
	}
	*s = sizeFlag(n)
	return nil
}

// UserAgent is the User-Agent header the crawl sends.
func (c Config) UserAgent() string {
	if c.Contact == "" {
		return "weaksup/" + Version + " (research image crawler; honours X-Robots-Tag noai)"
	}
	return "weaksup/" + Version + " (research image crawler; +" + c.Contact + ")"
}

// Validate reports the first flag with an unusable value.
func (c Config) Validate() error {
	switch {
	case c.Input == "":
		return errors.New("flag --input: no input file given")
	case c.Concurrency < 1:
		return fmt.Errorf("flag --concurrency: %d, want >= 1", c.Concurrency)
	case c.PerHost < 1:
		return fmt.Errorf("flag --per-host: %d, want >= 1", c.PerHost)
	case c.Quality < 1 || c.Quality > 100:
		return fmt.Errorf("flag --quality: %d, want 1..100", c.Quality)
	case c.MaxAttempts < 1:
		return fmt.Errorf("flag --max-attempts: %d, want >= 1", c.MaxAttempts)
	case c.SpeedLimit < 0:
		return fmt.Errorf("flag --speed-limit: %d, want >= 0 bytes/s", c.SpeedLimit)
	case c.SpeedLimit > 0 && c.SpeedTime <= 0:
		return fmt.Errorf("flag --speed-time: %v, want > 0 with --speed-limit %d", c.SpeedTime, c.SpeedLimit)
	case c.MaxBodyBytes < 1:
		return fmt.Errorf("flag --max-body: %d, want >= 1", c.MaxBodyBytes)
	case c.MaxPixels < 1:
		return fmt.Errorf("flag --max-pixels: %d, want >= 1", c.MaxPixels)
	case c.MaxAspect < 0:
		return fmt.Errorf("flag --max-aspect: %d, want >= 0", c.MaxAspect)
	case c.ImageSize < 0:
		return fmt.Errorf("flag --image-size: %d, want >= 0", c.ImageSize)
	}
	if _, _, err := c.partition(); err != nil {
		return err
	}
	return nil
}

// partition parses Partition; "" is 0 of 1.
func (c Config) partition() (i, n uint64, err error) {
	if c.Partition == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(c.Partition, "/")
	i, err1 := strconv.ParseUint(a, 10, 32)
	n, err2 := strconv.ParseUint(b, 10, 32)
	if !ok || err1 != nil || err2 != nil || n == 0 || i >= n {
		return 0, 0, fmt.Errorf("flag --ingest-partition: %q, want i/N with 0 <= i < N", c.Partition)
	}
	return i, n, nil
}

// Fingerprint identifies the input file: its absolute path, size and
// modification time.
func (c Config) Fingerprint() (string, error) {
	if c.Input == "" {
		return "", nil
	}
	abs, err := filepath.Abs(c.Input)
	if err != nil {
		return "", fmt.Errorf("fingerprint input %s: %w", c.Input, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("fingerprint input: %w", err)
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d\x00%d", abs, st.Size(), st.ModTime().UnixNano())))
	return hex.EncodeToString(h[:16]), nil
}

func (c Config) fetchConfig() FetchConfig {
	return FetchConfig{
		UserAgent: c.UserAgent(), AllowPrivate: c.AllowPrivate,
		ConnectTimeout: c.ConnectTimeout, HeaderTimeout: c.HeaderTimeout, Timeout: c.FetchTimeout,
		SpeedLimit: c.SpeedLimit, SpeedTime: c.SpeedTime,
		MaxBodyBytes: c.MaxBodyBytes, MaxRedirects: c.MaxRedirects,
		PerHost: c.PerHost, HostInterval: c.HostInterval,
		Retries: c.Retries, BackoffBase: c.BackoffBase, BackoffMax: c.BackoffMax,
	}
}

func (c Config) imageConfig() ImageConfig {
	return ImageConfig{Size: c.ImageSize, Quality: c.Quality, MaxPixels: c.MaxPixels, MinSide: c.MinSide, MaxAspect: c.MaxAspect}
}
