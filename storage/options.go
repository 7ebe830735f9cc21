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
// (default DefaultBufferSize). Memory per concurrent write is about twice this.
func WithBufferSize(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.bufferSize = n
		}
	}
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

func buildOptions(opts []Option) options {
	o := options{signedURLBase: "/_storage", bufferSize: DefaultBufferSize}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}
