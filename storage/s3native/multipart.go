package s3native

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/repokit/repokit/storage"
)

// S3 native multipart upload through the SDK client gocloud exposes via As.

// errRequestDone stops a part's pump once its HTTP request has finished.
var errRequestDone = errors.New("s3native: part request finished")

func (t *s3Target) CreateMultipart(ctx context.Context, key string) (string, error) {
	out, err := t.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:      aws.String(t.bucket),
		Key:         aws.String(t.fullKey(key)),
		ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		return "", mapS3Err(err)
	}
	return aws.ToString(out.UploadId), nil
}

// uploadPart streams the part with a presigned UploadPart request: presigned
// requests carry UNSIGNED-PAYLOAD, so the body needs no seeking or buffering
// (the SDK would otherwise have to hash the whole part before sending it over
// plain HTTP). The part is hashed while streaming; S3's ETag (the part's MD5)
// is checked against ours.
func (t *s3Target) UploadPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64, contentMD5 []byte) (storage.Part, error) {
	ps := s3.NewPresignClient(t.client, s3.WithPresignExpires(time.Hour))
	in := &s3.UploadPartInput{
		Bucket:        aws.String(t.bucket),
		Key:           aws.String(t.fullKey(key)),
		UploadId:      aws.String(uploadID),
		PartNumber:    aws.Int32(int32(n)),
		ContentLength: aws.Int64(size),
	}
	if contentMD5 != nil {
		in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(contentMD5))
	}
	req, err := ps.PresignUploadPart(ctx, in)
	if err != nil {
		return storage.Part{}, mapS3Err(err)
	}
	pr, pw := io.Pipe()
	type result struct {
		sums storage.Checksums
		err  error
	}
	done := make(chan result, 1)
	go func() {
		_, sums, err := storage.StreamWithChecksums(ctx, r, pw, size)
		pw.CloseWithError(err) // nil → EOF
		done <- result{sums, err}
	}()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPut, req.URL, pr)
	if err != nil {
		pr.CloseWithError(err)
		<-done
		return storage.Part{}, err
	}
	for k, vs := range req.SignedHeader {
		if strings.EqualFold(k, "Host") || strings.EqualFold(k, "Content-Length") {
			continue
		}
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	hreq.ContentLength = size
	if size == 0 {
		hreq.Body = http.NoBody
	}
	resp, herr := t.httpClient().Do(hreq)
	pr.CloseWithError(errRequestDone) // unblock the pump if the server stopped reading
	res := <-done
	// The source's own failure (size mismatch, read error) explains a failed
	// request best; a closed pipe only means the transport gave up on the
	// body, and the server's answer (or the upload's state) explains that.
	sourceErr := res.err != nil && !errors.Is(res.err, errRequestDone) && !errors.Is(res.err, io.ErrClosedPipe)
	if sourceErr && (herr != nil || resp.StatusCode == http.StatusOK) {
		if resp != nil {
			resp.Body.Close()
		}
		return storage.Part{}, res.err
	}
	if herr != nil {
		// A server that answers early (e.g. NoSuchUpload) and closes the
		// connection can surface as a broken body write: ask about the upload.
		if _, lerr := t.client.ListParts(context.WithoutCancel(ctx), &s3.ListPartsInput{
			Bucket: aws.String(t.bucket), Key: aws.String(t.fullKey(key)), UploadId: aws.String(uploadID), MaxParts: aws.Int32(1),
		}); lerr != nil {
			if merr := mapS3Err(lerr); errors.Is(merr, storage.ErrNotFound) {
				return storage.Part{}, fmt.Errorf("%w (%w)", merr, herr)
			}
		}
		return storage.Part{}, herr
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return storage.Part{}, s3StatusErr(resp.StatusCode, body)
	}
	if res.err != nil {
		return storage.Part{}, res.err
	}
	if contentMD5 != nil && res.sums.MD5 != "md5:"+hex.EncodeToString(contentMD5) {
		// Unreachable unless the server ignored Content-MD5: report it anyway.
		return storage.Part{}, fmt.Errorf("part %d: Content-MD5 %x, sent %s: %w", n, contentMD5, res.sums.MD5, storage.ErrChecksumMismatch)
	}
	etag := resp.Header.Get("ETag")
	if e := strings.Trim(etag, `"`); len(e) == 32 && "md5:"+strings.ToLower(e) != res.sums.MD5 {
		return storage.Part{}, fmt.Errorf("part %d: server ETag %s, we sent %s: %w", n, etag, res.sums.MD5, storage.ErrChecksumMismatch)
	}
	return storage.Part{Number: n, Size: size, ETag: etag, Checksums: res.sums}, nil
}

func (t *s3Target) httpClient() interface {
	Do(*http.Request) (*http.Response, error)
} {
	if c := t.client.Options().HTTPClient; c != nil {
		return c
	}
	return http.DefaultClient
}

func (t *s3Target) CompleteMultipart(ctx context.Context, key, uploadID string, parts []storage.Part) error {
	cp := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		if p.ETag == "" {
			return fmt.Errorf("part %d has no ETag: %w", p.Number, storage.ErrInvalid)
		}
		cp[i] = types.CompletedPart{PartNumber: aws.Int32(int32(p.Number)), ETag: aws.String(p.ETag)}
	}
	_, err := t.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(t.bucket),
		Key:             aws.String(t.fullKey(key)),
		UploadId:        aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: cp},
	})
	return mapS3Err(err)
}

func (t *s3Target) AbortMultipart(ctx context.Context, key, uploadID string) error {
	_, err := t.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(t.bucket),
		Key:      aws.String(t.fullKey(key)),
		UploadId: aws.String(uploadID),
	})
	return mapS3Err(err)
}

// mapS3Err adds our sentinels to S3 API errors.
func mapS3Err(err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchUpload", "NoSuchKey", "NotFound", "NoSuchBucket":
			return fmt.Errorf("%w (%w)", storage.ErrNotFound, err)
		case "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "InvalidArgument", "InvalidRequest":
			return fmt.Errorf("%w (%w)", storage.ErrInvalid, err)
		case "BadDigest", "InvalidDigest":
			return fmt.Errorf("%w (%w)", storage.ErrChecksumMismatch, err)
		}
	}
	return err
}

func s3StatusErr(status int, body []byte) error {
	msg := fmt.Sprintf("S3 status %d: %s", status, strings.TrimSpace(string(body)))
	switch {
	case status == http.StatusNotFound || strings.Contains(msg, "NoSuchUpload"):
		return fmt.Errorf("%s: %w", msg, storage.ErrNotFound)
	case strings.Contains(msg, "BadDigest"):
		return fmt.Errorf("%s: %w", msg, storage.ErrChecksumMismatch)
	case status == http.StatusBadRequest:
		return fmt.Errorf("%s: %w", msg, storage.ErrInvalid)
	}
	return errors.New(msg)
}
