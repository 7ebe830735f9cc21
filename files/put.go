package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/repokit/repokit/storage"
)

// PutOptions describes an upload.
type PutOptions struct {
	// Size is the announced size in bytes (0 = unknown). Bytes received
	// must match it (ErrSizeMismatch otherwise).
	Size int64
	// ContentMD5 is the client's base64 MD5 (RFC 1864); the bytes must match
	// it (ErrChecksumMismatch otherwise).
	ContentMD5 string
	// Mimetype of the object (default: guessed from the key's extension).
	Mimetype string
	// StorageClass of the new file (default: the bucket's); it selects the
	// location through the bucket's routes.
	StorageClass string
	// Tags of the new version.
	Tags map[string]string
}

// Put uploads a new version of key from r and makes it the head. The bytes
// are streamed to a fresh storage key with no database transaction open,
// limited to min(max file size, quota left) so an oversized upload fails as
// soon as the limit is passed; then one short transaction reserves the size
// in the bucket (never exceeding the quota under concurrent uploads) and
// inserts the file instance and version. If anything fails after the bytes
// are written they are deleted (or, after a crash, left unreferenced for
// CollectGarbage).
func (s *Store) Put(ctx context.Context, bucketID, key string, r io.Reader, o PutOptions) (*Object, error) {
	key = NormalizeKey(key)
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if o.Size < 0 {
		return nil, userf(ErrInvalid, "negative size")
	}
	if err := validateTags(o.Tags); err != nil {
		return nil, err
	}
	b, err := s.writableBucket(ctx, s.q(), bucketID)
	if err != nil {
		return nil, err
	}
	limit, byQuota := b.SizeLimit()
	if err := checkLimit(o.Size, limit, byQuota, b); err != nil {
		return nil, err
	}
	class := o.StorageClass
	if class == "" {
		class = b.StorageClass
	}
	loc, err := s.location(b.LocationFor(class))
	if err != nil {
		return nil, err
	}
	f := &FileInstance{ID: uuid.NewString(), Location: loc.Name(), StorageClass: class}
	f.StorageKey = s.storageKeyFor(f.ID)
	wo := storage.WriteOptions{MaxSize: max(limit, 0), ExpectedSize: storage.UnknownSize, ContentMD5: o.ContentMD5}
	if o.Size > 0 {
		wo.ExpectedSize = o.Size
	}
	res, err := loc.Write(ctx, f.StorageKey, r, wo)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, limitError(limit, byQuota, err)
		}
		return nil, fmt.Errorf("files: upload %s: %w", key, err)
	}
	f.Size, f.MD5, f.SHA256 = res.Size, res.Checksums.MD5, res.Checksums.SHA256
	mimetype := o.Mimetype
	if mimetype == "" {
		mimetype = MimetypeOf(key)
	}
	obj, err := s.commitFile(ctx, bucketID, key, f, mimetype, o.Tags)
	if err != nil {
		s.discard(loc, f.StorageKey)
		return nil, err
	}
	return obj, nil
}

// checkLimit fails fast when the announced size is over the limit.
func checkLimit(size, limit int64, byQuota bool, b *Bucket) error {
	if limit == 0 && byQuota {
		return userf(ErrQuotaExceeded, "bucket %s is full: %d of %d bytes", b.ID, b.Size, b.Quota)
	}
	if size > 0 && limit >= 0 && size > limit {
		return limitError(limit, byQuota, nil)
	}
	return nil
}

func limitError(limit int64, byQuota bool, cause error) error {
	base := ErrFileTooLarge
	if byQuota {
		base = ErrQuotaExceeded
	}
	if cause != nil {
		return userCause(base, cause, "limit %d bytes", limit)
	}
	return userf(base, "limit %d bytes", limit)
}

// discard deletes bytes whose metadata never committed (best effort: GC
// removes them otherwise).
func (s *Store) discard(loc *storage.Location, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := loc.Delete(ctx, key); err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.cfg.log.Warn("files: could not delete uncommitted bytes; GC will", "location", loc.Name(), "key", key, "err", err)
	}
}
