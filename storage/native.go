package storage

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/url"
	"sync"

	"gocloud.dev/blob"
)

// Native is what a driver package adds to a location for operations its
// service does natively and storage otherwise emulates with portable blob
// calls: multipart uploads, server-side copies of large objects, listing
// unfinished uploads, response overrides in signed URLs and tuning of
// streaming writes. Package storage/s3native provides it for s3://.
// Methods take and return location keys (without the URL's prefix=).
type Native interface {
	CreateMultipart(ctx context.Context, key string) (uploadID string, err error)
	UploadPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64, contentMD5 []byte) (Part, error)
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part) error
	AbortMultipart(ctx context.Context, key, uploadID string) error
	// CopyLarge copies srcKey to dstKey in the same bucket natively when the
	// portable copy cannot (size above the service's single-copy limit);
	// handled is false when the portable copy should be used.
	CopyLarge(ctx context.Context, dstKey, srcKey string, size int64) (handled bool, err error)
	Uploads(ctx context.Context, prefix string) iter.Seq2[UploadInfo, error]
	// BeforeSign applies response overrides to a signed URL request (the
	// blob.SignedURLOptions.BeforeSign hook).
	BeforeSign(o SignedURLOptions) func(as func(any) bool) error
	// BeforeWrite tunes a streaming write (blob.WriterOptions.BeforeWrite)
	// for parts of partSize bytes, concurrency of them in flight.
	BeforeWrite(as func(any) bool, partSize, concurrency int) error
}

// NativeOpener returns the Native of a location opened from u over b (nil
// if the bucket does not support it).
type NativeOpener func(b *blob.Bucket, u *url.URL) (Native, error)

var (
	nativeMu      sync.RWMutex
	nativeOpeners = map[string]NativeOpener{}
)

// RegisterNative makes locations of scheme use the Native open returns. A
// driver package calls it from init, next to registering its blob driver
// with gocloud (blob.DefaultURLMux), as storage/s3native does. Registering
// a scheme twice panics.
func RegisterNative(scheme string, open NativeOpener) {
	nativeMu.Lock()
	defer nativeMu.Unlock()
	if _, dup := nativeOpeners[scheme]; dup {
		panic("storage: RegisterNative called twice for " + scheme)
	}
	nativeOpeners[scheme] = open
}

func nativeOpener(scheme string) NativeOpener {
	nativeMu.RLock()
	defer nativeMu.RUnlock()
	return nativeOpeners[scheme]
}

// StreamWithChecksums copies r to w as storage's own writes do: it stops
// with ErrSizeMismatch as soon as r gives more than expected bytes (or,
// at its end, fewer; expected < 0 means unknown) and returns the MD5 and
// SHA-256 of what it copied. For Native implementations that stream parts.
func StreamWithChecksums(ctx context.Context, r io.Reader, w io.Writer, expected int64) (int64, Checksums, error) {
	return pump(ctx, r, w, pumpLimits{expected: expected})
}

// driverHint says which import registers a cloud scheme that is not
// registered.
func driverHint(scheme string) error { return driverHintIn(blob.DefaultURLMux(), scheme) }

func driverHintIn(mux *blob.URLMux, scheme string) error {
	imp := map[string]string{
		"s3":     "github.com/repokit/repokit/storage/s3native",
		"gs":     "gocloud.dev/blob/gcsblob",
		"azblob": "gocloud.dev/blob/azureblob",
	}[scheme]
	if imp == "" || mux.ValidBucketScheme(scheme) {
		return nil
	}
	return fmt.Errorf("storage: no driver for %s:// in this program: add import _ %q: %w", scheme, imp, ErrUnsupported)
}

// beforeWrite lets the location's Native tune a streaming write.
func (l *Location) beforeWrite(as func(any) bool, partSize int) error {
	if l.native == nil {
		return nil
	}
	return l.native.BeforeWrite(as, partSize, l.opts.concurrency)
}
