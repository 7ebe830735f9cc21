package storage

import (
	"log/slog"
)

// Option configures Open and OpenLocation.
type Option func(*options)

type options struct {
	signingKey    []byte
	signedURLBase string
	bufferSize    int
	bufferSet     bool // WithBufferSize given: no automatic part size
	concurrency   int
	logger        *slog.Logger
	name          string      // WithName (Open only)
	nameSet       bool        // WithName given
	extra         [][2]string // WithLocation: name, URL (Open only)
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

// WithBufferSize sets the part size of S3 streamed uploads (default: for a
// write of known size the smallest allowed, 5 MiB, or size/10000 for huge
// objects; DefaultBufferSize when the size is unknown, which caps such
// streamed S3 objects at 10000 parts, ~78 GiB). Besides
// this, every write or copy streams through 4 MiB of reused chunks.
func WithBufferSize(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.bufferSize = n
			o.bufferSet = true
		}
	}
}

// WithUploadConcurrency sets how many buffered parts a driver may upload at
// once for one Write (S3: parts of BufferSize in flight; default 1). An S3
// write holds about (n+1) parts plus a transient copy of its first part
// (measured: ~25 MiB peak heap for a 128 MiB write with the defaults);
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

// WithName names the location Open opens at its URL, the default one
// (default DefaultLocationName). The name is stored with every file
// instance and appears in signed URLs, so it must not change once files
// are written. Only Open takes it: OpenLocation has the name as argument.
func WithName(name string) Option {
	return func(o *options) { o.name, o.nameSet = name, true }
}

// WithLocation makes Open open one more location, called name, from url.
// Only Open takes it.
func WithLocation(name, url string) Option {
	return func(o *options) { o.extra = append(o.extra, [2]string{name, url}) }
}

func buildOptions(opts []Option) options {
	o := options{signedURLBase: "/_storage", bufferSize: DefaultBufferSize, concurrency: 1, name: DefaultLocationName}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}
