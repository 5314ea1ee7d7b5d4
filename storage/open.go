package storage

import (
	"context"
	"fmt"
	"os"
	"strings"

	gcsstorage "cloud.google.com/go/storage"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/googleapis/gax-go/v2"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/gcsblob"
	"gocloud.dev/blob/s3blob"
	"google.golang.org/api/option"
)

// sdkAttempts is how often the providers' SDKs try one request before
// handing the error to this package's own retries (Options.Attempts),
// which also cover what the SDKs do not: bodies cut short or stalled.
const sdkAttempts = 3

// openBucket opens the bucket of loc with its provider's SDK, and returns
// what closes the client with it.
func openBucket(ctx context.Context, loc Location, o *Options, create bool) (*blob.Bucket, func(), error) {
	switch loc.Scheme {
	case Local:
		st, err := os.Stat(loc.Prefix)
		switch {
		case err != nil && os.IsNotExist(err) && create:
			if err := os.MkdirAll(loc.Prefix, 0o755); err != nil {
				return nil, nil, err
			}
		case err != nil:
			return nil, nil, err
		case !st.IsDir():
			return nil, nil, fmt.Errorf("not a directory")
		}
		// Temporary files beside their targets, so that Close renames
		// within one file system; no attribute side files.
		b, err := fileblob.OpenBucket(loc.Prefix, &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
		return b, func() {}, err
	case GCS:
		return openGCS(ctx, loc, o)
	case S3:
		return openS3(ctx, loc, o)
	}
	return nil, nil, fmt.Errorf("unknown scheme %q", loc.Scheme)
}

// openGCS uses Application Default Credentials, or no credentials at all
// when an emulator's endpoint is given (Options.Endpoint or
// STORAGE_EMULATOR_HOST, as Google's own clients read it).
func openGCS(ctx context.Context, loc Location, o *Options) (*blob.Bucket, func(), error) {
	var copts []option.ClientOption
	if ep := o.Endpoint; ep != "" {
		if !strings.Contains(ep, "://") {
			ep = "http://" + ep
		}
		copts = append(copts, option.WithEndpoint(strings.TrimSuffix(ep, "/")+"/storage/v1/"), option.WithoutAuthentication())
	}
	client, err := gcsstorage.NewClient(ctx, copts...)
	if err != nil {
		return nil, nil, fmt.Errorf("make a Cloud Storage client: %w", err)
	}
	// Uploads here replace a whole object with the same bytes, so
	// retrying them is safe (RetryAlways); the SDK's own attempts are few.
	client.SetRetry(gcsstorage.WithPolicy(gcsstorage.RetryAlways),
		gcsstorage.WithMaxAttempts(sdkAttempts),
		gcsstorage.WithBackoff(gax.Backoff{Initial: o.InitialBackoff, Max: o.MaxBackoff, Multiplier: 2}))
	b, err := gcsblob.OpenBucket(ctx, nil, loc.Bucket, &gcsblob.Options{Client: client})
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	return b, func() { client.Close() }, nil
}

// openS3 uses the AWS SDK's default chain for credentials and region
// (environment, shared config and credentials files, SSO, web identity,
// container and instance roles) and its endpoint settings
// (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or endpoint_url in the config
// file); Options.Endpoint overrides them. With any endpoint other than
// AWS's own, requests are path-style (https://HOST/BUCKET/KEY), which
// MinIO, Ceph, R2 and the test fakes serve, unless Options.S3VirtualHosted.
func openS3(ctx context.Context, loc Location, o *Options) (*blob.Bucket, func(), error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = sdkAttempts
			so.MaxBackoff = o.MaxBackoff
			// The SDK's client-side retry quota turns a burst of server
			// errors into local failures; the backoff already paces.
			so.RateLimiter = ratelimit.None
		})
	}))
	if err != nil {
		return nil, nil, fmt.Errorf("load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		// The SDK needs a region to sign; S3-compatible services accept
		// any, and AWS redirects to the bucket's own.
		cfg.Region = "us-east-1"
	}
	custom := o.Endpoint != "" || cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		if custom {
			so.UsePathStyle = !o.S3VirtualHosted
			// Not every S3-compatible service reads the SDK's trailing
			// checksums; send them only where the API requires them.
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	b, err := s3blob.OpenBucket(ctx, client, loc.Bucket, nil)
	if err != nil {
		return nil, nil, err
	}
	return b, func() {}, nil
}
