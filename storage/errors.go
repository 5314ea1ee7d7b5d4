package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	gcsstorage "cloud.google.com/go/storage"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"gocloud.dev/gcerrors"
	"google.golang.org/api/googleapi"
)

var (
	// ErrShortRead is wrapped by errors about a response that ended before
	// the bytes it promised: a truncated body, a range served short.
	ErrShortRead = errors.New("short read")
	// ErrStalled is wrapped by errors about a request that moved no byte
	// for the stall timeout (Options.StallTimeout).
	ErrStalled = errors.New("stalled")

	errClosed = errors.New("reader is closed")
)

// Error is what every failed operation returns: the operation, the URL (or
// path) of the object or location, and the cause. errors.Is(err,
// fs.ErrNotExist) holds for a missing object or bucket, errors.Is(err,
// fs.ErrPermission) for a request the service refused.
type Error struct {
	Op  string // "read", "write", "list", "stat", "delete", "open"
	URL string
	Err error
}

func (e *Error) Error() string { return e.Op + " " + e.URL + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Is maps the services' not-found and refused answers onto fs.ErrNotExist
// and fs.ErrPermission.
func (e *Error) Is(target error) bool {
	switch target {
	case fs.ErrNotExist:
		// GCS answers 403 where the caller may not learn whether an
		// object exists; gcsblob calls that NotFound, this does not.
		return gcerrors.Code(e.Err) == gcerrors.NotFound && !refused(e.Err) && httpStatus(e.Err) != http.StatusMovedPermanently
	case fs.ErrPermission:
		return gcerrors.Code(e.Err) == gcerrors.PermissionDenied || refused(e.Err)
	}
	return false
}

func refused(err error) bool {
	s := httpStatus(err)
	return s == http.StatusForbidden || s == http.StatusUnauthorized
}

func opError(op, url string, err error) error {
	var se *Error
	if errors.As(err, &se) && se.URL == url {
		return err
	}
	return &Error{Op: op, URL: url, Err: explain(err)}
}

// explain puts the service's answer in words before the driver's text,
// which names neither the bucket nor the key in a way a user can act on.
func explain(err error) error {
	switch s := httpStatus(err); s {
	case http.StatusForbidden, http.StatusUnauthorized:
		return fmt.Errorf("the service refused the request (HTTP %d; check the credentials and their permissions): %w", s, err)
	case http.StatusMovedPermanently:
		// S3 answers a request signed for another region so; s3blob
		// calls it NotFound.
		return fmt.Errorf("the bucket is in another region than the client's (set AWS_REGION): %w", err)
	}
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		if apiCode(err) == "NoSuchBucket" || errors.Is(err, gcsstorage.ErrBucketNotExist) {
			return fmt.Errorf("the bucket does not exist: %w", err)
		}
		return fmt.Errorf("it does not exist: %w", err)
	case gcerrors.PermissionDenied:
		return fmt.Errorf("the service refused the request (check the credentials and their permissions): %w", err)
	}
	return err
}

// httpStatus digs the HTTP status out of an S3 or GCS error, or returns 0.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// apiCode is the S3 error code ("NoSuchBucket", "SlowDown"), or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
