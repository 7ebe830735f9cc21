package storage

import (
	"context"
	"fmt"
)

// Copy copies srcKey of src into dstKey of l. Within one location (src == l)
// the driver copies server-side (S3 CopyObject, a file copy) and the result
// carries the size but no checksums unless opts.ExpectedChecksum or
// opts.ContentMD5 ask for verification, in which case the copy is re-read
// and hashed (and removed on a mismatch). Across locations the bytes are
// streamed through Write with all of opts' checks, so the result always has
// checksums. A missing source gives ErrNotFound; on any error nothing is
// left under dstKey. On S3, objects over 5 GiB (CopyObject's limit) are
// copied server-side as a multipart upload of UploadPartCopy ranges.
func (l *Location) Copy(ctx context.Context, dstKey string, src *Location, srcKey string, opts WriteOptions) (WriteResult, error) {
	if err := checkKey(dstKey); err != nil {
		return WriteResult{}, err
	}
	if src != l {
		r, err := src.NewReader(ctx, srcKey)
		if err != nil {
			return WriteResult{}, err
		}
		defer r.Close()
		if opts.ContentType == "" {
			opts.ContentType = r.ContentType()
		}
		return l.Write(ctx, dstKey, r, opts)
	}
	wantMD5, err := ParseContentMD5(opts.ContentMD5)
	if err != nil {
		return WriteResult{}, err
	}
	if opts.ExpectedChecksum != "" {
		if _, _, err := ParseChecksum(opts.ExpectedChecksum); err != nil {
			return WriteResult{}, err
		}
	}
	info, err := l.Stat(ctx, srcKey)
	if err != nil {
		return WriteResult{}, err
	}
	if opts.MaxSize > 0 && info.Size > opts.MaxSize {
		return WriteResult{}, fmt.Errorf("storage: copy %q: %d bytes, limit %d: %w", srcKey, info.Size, opts.MaxSize, ErrTooLarge)
	}
	if opts.ExpectedSize >= 0 && info.Size != opts.ExpectedSize {
		return WriteResult{}, fmt.Errorf("storage: copy %q: %d bytes, expected %d: %w", srcKey, info.Size, opts.ExpectedSize, ErrSizeMismatch)
	}
	handled := false
	if l.native != nil {
		handled, err = l.native.CopyLarge(ctx, dstKey, srcKey, info.Size)
	}
	if !handled && err == nil {
		err = l.bucket.Copy(ctx, dstKey, srcKey, nil)
	}
	if err != nil {
		return WriteResult{}, wrapErr("copy", srcKey, err)
	}
	res := WriteResult{Size: info.Size}
	if wantMD5 == nil && opts.ExpectedChecksum == "" {
		return res, nil
	}
	res, err = l.Checksum(ctx, dstKey)
	if err == nil && wantMD5 != nil {
		err = res.Checksums.Verify(fmt.Sprintf("md5:%x", wantMD5))
	}
	if err == nil && opts.ExpectedChecksum != "" {
		err = res.Checksums.Verify(opts.ExpectedChecksum)
	}
	if err != nil {
		_ = l.bucket.Delete(context.WithoutCancel(ctx), dstKey)
		return WriteResult{}, fmt.Errorf("storage: copy %q to %q: %w", srcKey, dstKey, err)
	}
	return res, nil
}
