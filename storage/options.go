package storage

import (
	"log/slog"
)

// Option configures OpenLocation and OpenLocations.
type Option func(*options)

type options struct {
	signingKey    []byte
	signedURLBase string
	bufferSize    int
	concurrency   int
	logger        *slog.Logger
}

// DefaultBufferSize is the copy buffer used by Write and the blob.Writer
// buffer size (bytes per S3 part of a streamed upload). 8 MiB keeps memory
// per upload constant and small while keeping syscalls and requests few.
const DefaultBufferSize = 8 << 20

// WithSigningKey sets the secret used to sign URLs for file:// locations
// (gocloud fileblob URLSignerHMAC). Each location signs with a key derived
// from this secret and its name, so a URL signed for one location is never
// valid for another. Processes that must accept each other's URLs need the
// same secret. Without it a random secret is generated: signed URLs then work
// only in this process and only until it exits.
func WithSigningKey(secret []byte) Option {
	return func(o *options) { o.signingKey = append([]byte(nil), secret...) }
}

// WithSignedURLBase sets the absolute or host-relative URL under which the
// host mounts Locations.SignedURLHandler (e.g. "https://example.org/_storage"
// or "/_storage"). The signed URL of key k in location n is
// base + "/" + n + "?obj=k&expiry=...&signature=...". Default "/_storage".
func WithSignedURLBase(base string) Option {
	return func(o *options) { o.signedURLBase = base }
}

// WithBufferSize sets the streaming buffer size used by writes and copies
// (default DefaultBufferSize): the part size of S3 streamed uploads. Besides
// this, every write or copy streams through 4 MiB of reused chunks.
func WithBufferSize(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.bufferSize = n
		}
	}
}

// WithUploadConcurrency sets how many buffered parts a driver may upload at
// once for one Write (S3: parts of BufferSize in flight; default 1). An S3
// write holds about (n+1)×BufferSize plus a transient copy of its first part
// (measured: ~55 MiB peak heap with the defaults, whatever the object size);
// raising n helps throughput to distant S3 endpoints. Local drivers ignore it.
func WithUploadConcurrency(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.concurrency = n
		}
	}
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

func buildOptions(opts []Option) options {
	o := options{signedURLBase: "/_storage", bufferSize: DefaultBufferSize, concurrency: 1}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}
