package s3native

import (
	"context"
	"fmt"
	"iter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/repokit/repokit/storage"
)

// Uploads lists S3's in-progress multipart uploads under prefix.
func (t *s3Target) Uploads(ctx context.Context, prefix string) iter.Seq2[storage.UploadInfo, error] {
	return func(yield func(storage.UploadInfo, error) bool) {
		in := &s3.ListMultipartUploadsInput{Bucket: aws.String(t.bucket), Prefix: aws.String(t.fullKey(prefix))}
		for {
			out, err := t.client.ListMultipartUploads(ctx, in)
			if err != nil {
				yield(storage.UploadInfo{}, fmt.Errorf("storage: list uploads %q: %w", prefix, mapS3Err(err)))
				return
			}
			for _, u := range out.Uploads {
				k, ok := t.stripPrefix(aws.ToString(u.Key))
				if !ok {
					continue
				}
				if !yield(storage.UploadInfo{Key: k, UploadID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)}, nil) {
					return
				}
			}
			if !aws.ToBool(out.IsTruncated) {
				return
			}
			in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
		}
	}
}
