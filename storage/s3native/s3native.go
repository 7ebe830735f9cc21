// Package s3native is the S3 driver of package storage: importing it
// registers s3:// URLs (gocloud's s3blob) and the native S3 operations
// storage uses on them — multipart uploads streamed with presigned
// UploadPart requests, UploadPartCopy for copies over 5 GiB, listing
// unfinished uploads, response overrides in signed URLs and a tuned
// transfer manager for streaming writes:
//
//	import _ "github.com/repokit/repokit/storage/s3native"
//
// Programs that do not import it link no AWS SDK.
package s3native

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob" // s3://

	"github.com/repokit/repokit/storage"
)

func init() {
	storage.RegisterNative("s3", func(b *blob.Bucket, u *url.URL) (storage.Native, error) {
		t := newS3Target(b, u)
		if t == nil {
			return nil, nil
		}
		return t, nil
	})
}

// s3Target is what native S3 operations (multipart) need besides the
// gocloud bucket: the SDK client (via As), the bucket name and the gocloud
// prefix= the location was opened with.
type s3Target struct {
	client *s3.Client
	bucket string
	prefix string
}

func newS3Target(b *blob.Bucket, u *url.URL) *s3Target {
	var c *s3.Client
	if !b.As(&c) || c == nil {
		return nil
	}
	return &s3Target{client: c, bucket: u.Host, prefix: u.Query().Get("prefix")}
}

// fullKey is the object key in the S3 bucket for a location key.
func (t *s3Target) fullKey(key string) string { return t.prefix + key }

// stripPrefix is the location key of a full S3 key ("" if outside the prefix).
func (t *s3Target) stripPrefix(full string) (string, bool) {
	if !strings.HasPrefix(full, t.prefix) {
		return "", false
	}
	return full[len(t.prefix):], true
}

// s3AbortTimeout bounds the AbortMultipartUpload sent after a cancelled
// streaming write.
const s3AbortTimeout = 30 * time.Second

// BeforeWrite adjusts the S3 transfer manager of a streaming write: the
// SDK aborts the multipart upload of a failed write with the write's own
// context, which we cancel on purpose to discard the bytes — so the abort
// itself failed and left an unfinished upload (found by the conformance
// suite). FailTimeout makes it use a fresh context. gocloud exposes the
// transfer manager only as a pointer, so the client is rebuilt in place with
// the same settings gocloud uses plus FailTimeout and a multipart threshold
// of one part.
func (t *s3Target) BeforeWrite(as func(any) bool, partSize, concurrency int) error {
	var tm *transfermanager.Client
	if !as(&tm) || tm == nil {
		return nil
	}
	c := t.client
	*tm = *transfermanager.New(c, func(o *transfermanager.Options) {
		o.RequestChecksumCalculation = c.Options().RequestChecksumCalculation
		o.PartSizeBytes = int64(partSize)
		// The SDK reads up to this threshold with io.ReadAll before choosing
		// PUT or multipart (default 16 MiB: ~35 MiB of garbage per write).
		o.MultipartUploadThreshold = int64(partSize)
		o.Concurrency = concurrency
		o.FailTimeout = s3AbortTimeout
	})
	return nil
}

// BeforeSign sets the response overrides of a presigned GetObject.
func (t *s3Target) BeforeSign(o storage.SignedURLOptions) func(as func(any) bool) error {
	return func(as func(any) bool) error {
		var in *s3.GetObjectInput
		if !as(&in) {
			return fmt.Errorf("s3 presign: no GetObjectInput: %w", storage.ErrUnsupported)
		}
		if o.ContentDisposition != "" {
			in.ResponseContentDisposition = aws.String(o.ContentDisposition)
		}
		if o.ContentType != "" {
			in.ResponseContentType = aws.String(o.ContentType)
		}
		return nil
	}
}
