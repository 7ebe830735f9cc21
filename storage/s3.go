package storage

import (
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
)

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
