// Package storage is the one way weaksup reads and writes its data at
// rest: local paths, gs://BUCKET/PREFIX (Google Cloud Storage) and
// s3://BUCKET/PREFIX (Amazon S3 and S3-compatible services such as MinIO,
// Ceph and R2).
//
// It is built on the Go Cloud Development Kit's blob package
// (gocloud.dev/blob with its gcsblob, s3blob and fileblob drivers), which
// puts one maintained, widely used API over Google's and Amazon's own SDKs
// and keeps their credential chains and their tested request handling, so
// that this package adds only what weaksup needs on top rather than a
// second client per provider.
//
// # What it offers
//
// Open or Create a location to get a Dir; within it, keys are
// slash-separated paths. A Dir lists (List), checks (Stat, Exists), reads
// whole objects (ReadAll), streams one with bounded read-ahead
// (NewReader), gives random access to one (Open returns an Object, an
// io.ReaderAt, as Arrow IPC files need), hands a mapped reader a local file
// (Local), writes atomically (Create returns a Writer; WriteFile; Upload
// sends a local file) and deletes (Delete).
//
//   - Atomic writes: nobody sees an object until its Writer's Close
//     succeeds. Locally that is a temporary file, fsync and rename (and an
//     fsync of the directory); on gs:// and s3:// the bytes are spooled to
//     a local file and uploaded on Close, and the service makes an object
//     visible only when its upload completes.
//   - Exact reads: Object.ReadAt returns every byte asked for or an error;
//     only a read past the end of the object returns fewer, with io.EOF.
//     A body that is cut, that ends early or that stalls is asked for
//     again from the byte where it stopped.
//   - Retries: each operation is tried up to Options.Attempts times with
//     exponential backoff and jitter on server errors (500, 503 SlowDown),
//     throttling, timeouts and dropped connections; the SDKs' own retries
//     (three attempts) sit beneath. Missing objects and refused requests
//     are not retried.
//   - Deadlines: every request runs under the caller's context and a stall
//     timeout (Options.StallTimeout): an attempt that moves no byte for
//     that long is abandoned and retried, so no call can hang.
//   - Errors are *Error values that name the operation and the URL;
//     errors.Is(err, fs.ErrNotExist) for a missing bucket or object,
//     errors.Is(err, fs.ErrPermission) for a refused request.
//   - Credentials are found the way each ecosystem finds them: Application
//     Default Credentials for gs://, the AWS SDK's default chain for s3://
//     (environment, shared files, SSO, web identity, instance roles). This
//     package never prints them.
//   - Endpoints: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (as the AWS SDKs
//     read them) or Options.Endpoint select an S3-compatible service, which
//     is then addressed path-style; STORAGE_EMULATOR_HOST or
//     Options.Endpoint select a GCS emulator.
//   - Caching: a Cache is a local directory bounded in bytes through which
//     Objects read gs:// and s3:// data in blocks, so that with a cache large
//     enough each byte crosses the network once per host, with bounded
//     read-ahead for sequential readers (see Cache).
//
// Dir, Object and Cache are safe for concurrent use; a Writer and a
// Reader are not.
//
// # What it does not do
//
// It creates no buckets, sets no object metadata beyond a content type,
// and assumes objects are not replaced while they are being read (weaksup
// writes shards and checkpoints once, under new names; a Cache keys blocks
// by size, modification time and ETag, so a replaced object is fetched
// anew on the next Open). It has been run against fake-gcs-server and
// gofakes3 on loopback, not against the real services.
//
// Package storagetest starts those fakes for tests, behind a front that
// injects faults.
package storage
