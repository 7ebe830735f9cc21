// Package storagetest is the conformance suite every storage location driver
// passes (in the style of gocloud.dev/blob/drivertest), plus helpers that open
// fresh, isolated locations for the drivers available on this machine so other
// packages (files) can run their own tests on each of them.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/storage"
	_ "github.com/repokit/repokit/storage/s3native" // s3://
)

// S3Env names the variable holding the S3 test URL (a gocloud s3blob URL,
// credentials in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).
const S3Env = "REPOKIT_TEST_S3_URL"

// Driver is one way to open a fresh location for a test.
type Driver struct {
	Name string
	// Open returns a new, empty, isolated location, closed (and emptied where
	// it is shared) at test cleanup. It skips the test if the service is not
	// configured (and fails it when REPOKIT_TEST_REQUIRE_SERVICES=1).
	Open func(t *testing.T, opts ...storage.Option) *storage.Location
	// SignedURLs: the driver must support SignedURL.
	SignedURLs bool
}

// Drivers lists mem://, file:// and s3:// (the last skips without S3Env).
func Drivers() []Driver {
	return []Driver{
		{Name: "mem", Open: OpenMem},
		{Name: "file", Open: OpenFile, SignedURLs: true},
		{Name: "s3", Open: OpenS3, SignedURLs: true},
	}
}

// OpenMem opens a fresh mem:// location named "mem".
func OpenMem(t *testing.T, opts ...storage.Option) *storage.Location {
	t.Helper()
	l, err := storage.OpenLocation(context.Background(), "mem", "mem://", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// OpenFile opens a fresh file:// location named "file" in t.TempDir().
func OpenFile(t *testing.T, opts ...storage.Option) *storage.Location {
	t.Helper()
	u := url.URL{Scheme: "file", Path: t.TempDir()}
	l, err := storage.OpenLocation(context.Background(), "file", u.String(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// OpenS3 opens the S3Env bucket (creating it if missing) under a random key
// prefix, as a location named "s3"; at cleanup it aborts the multipart
// uploads and deletes the objects under that prefix.
func OpenS3(t *testing.T, opts ...storage.Option) *storage.Location {
	t.Helper()
	raw := sqldbtest.ServiceURL(t, S3Env)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", S3Env, err)
	}
	prefix := "repokit-test-" + randHex(8) + "/"
	q := u.Query()
	q.Set("prefix", q.Get("prefix")+prefix)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	l, err := storage.OpenLocation(ctx, "s3", u.String(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	var c *s3.Client
	if !l.Bucket().As(&c) {
		t.Fatal("s3 location: As(*s3.Client) failed")
	}
	bucket := u.Host
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
		var owned *types.BucketAlreadyOwnedByYou
		var exists *types.BucketAlreadyExists
		if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
			t.Fatalf("create bucket %s: %v", bucket, err)
		}
	}
	t.Cleanup(func() {
		fullPrefix := q.Get("prefix")
		ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(fullPrefix)})
		if err == nil {
			for _, up := range ups.Uploads {
				_, _ = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: up.Key, UploadId: up.UploadId})
			}
		}
		for o, err := range l.List(ctx, "") {
			if err != nil {
				t.Logf("s3 cleanup: %v", err)
				break
			}
			_ = l.Delete(ctx, o.Key)
		}
		_ = l.Close()
	})
	return l
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
