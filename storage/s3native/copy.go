package s3native

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/repokit/repokit/storage"
)

// S3's CopyObject handles objects up to 5 GiB; larger server-side copies are
// multipart uploads whose parts are UploadPartCopy ranges of the source.
// Variables so tests can exercise the path with small objects.
var (
	s3CopyObjectLimit int64 = 5 << 30
	s3CopyPartSize    int64 = 512 << 20
)

const s3CopyConcurrency = 4

// CopyLarge copies srcKey to dstKey (same bucket) with UploadPartCopy when
// the object is over CopyObject's limit.
func (t *s3Target) CopyLarge(ctx context.Context, dstKey, srcKey string, size int64) (bool, error) {
	if size <= s3CopyObjectLimit {
		return false, nil
	}
	return true, t.copyLarge(ctx, dstKey, srcKey, size)
}

func (t *s3Target) copyLarge(ctx context.Context, dstKey, srcKey string, size int64) error {
	part := max(s3CopyPartSize, (size+storage.MaxParts-1)/storage.MaxParts)
	id, err := t.CreateMultipart(ctx, dstKey)
	if err != nil {
		return err
	}
	n := int((size + part - 1) / part)
	parts := make([]types.CompletedPart, n)
	src := url.QueryEscape(t.bucket + "/" + t.fullKey(srcKey)) // as gocloud's s3blob Copy does
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s3CopyConcurrency)
	for i := range n {
		off := int64(i) * part
		end := min(size, off+part) - 1
		g.Go(func() error {
			out, err := t.client.UploadPartCopy(gctx, &s3.UploadPartCopyInput{
				Bucket:          aws.String(t.bucket),
				Key:             aws.String(t.fullKey(dstKey)),
				UploadId:        aws.String(id),
				PartNumber:      aws.Int32(int32(i + 1)),
				CopySource:      aws.String(src),
				CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
			})
			if err != nil {
				return mapS3Err(err)
			}
			parts[i] = types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		_ = t.AbortMultipart(context.WithoutCancel(ctx), dstKey, id)
		return err
	}
	_, err = t.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(t.bucket),
		Key:             aws.String(t.fullKey(dstKey)),
		UploadId:        aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		_ = t.AbortMultipart(context.WithoutCancel(ctx), dstKey, id)
		return mapS3Err(err)
	}
	return nil
}
