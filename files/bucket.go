package files

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// Bucket is a container of versioned objects with its own limits and
// storage routing.
type Bucket struct {
	ID string `json:"id"`
	// Location is the name of the storage location new files go to ("" =
	// the default location), unless Routes names one for their class.
	Location string `json:"location"`
	// StorageClass is the class of new files when an upload names none.
	StorageClass string `json:"storage_class"`
	// Routes maps a storage class to the location its files go to.
	Routes map[string]string `json:"routes,omitempty"`
	// Quota is the most bytes the bucket's versions may take (0 = no quota).
	Quota int64 `json:"quota,omitempty"`
	// MaxFileSize is the largest file accepted (0 = no limit).
	MaxFileSize int64 `json:"max_file_size,omitempty"`
	// Size is the bytes taken by all object versions of the bucket.
	Size    int64             `json:"size"`
	Locked  bool              `json:"locked"`
	Deleted bool              `json:"deleted"`
	Tags    map[string]string `json:"tags,omitempty"`
	Created time.Time         `json:"created"`
	Updated time.Time         `json:"updated"`
}

// LocationFor returns the location name new files of the given storage
// class go to ("" = the default location).
func (b *Bucket) LocationFor(class string) string {
	if class == "" {
		class = b.StorageClass
	}
	if l, ok := b.Routes[class]; ok {
		return l
	}
	return b.Location
}

// SizeLimit returns the largest file the bucket accepts now (min of max
// file size and quota left; -1 = no limit) and whether the quota is what
// binds.
func (b *Bucket) SizeLimit() (limit int64, byQuota bool) {
	limit = -1
	if b.MaxFileSize > 0 {
		limit = b.MaxFileSize
	}
	if b.Quota > 0 {
		left := max(b.Quota-b.Size, 0)
		if limit < 0 || left < limit {
			return left, true
		}
	}
	return limit, false
}

// BucketOptions describes a new bucket.
type BucketOptions struct {
	Location     string
	StorageClass string
	Routes       map[string]string
	Quota        int64
	MaxFileSize  int64
	Locked       bool
	Tags         map[string]string
}

type bucketRow struct {
	ID           string        `db:"id"`
	Location     string        `db:"location"`
	StorageClass string        `db:"storage_class"`
	Routes       []byte        `db:"routes"`
	Quota        sql.NullInt64 `db:"quota"`
	MaxFileSize  sql.NullInt64 `db:"max_file_size"`
	Size         int64         `db:"size"`
	Locked       bool          `db:"locked"`
	Deleted      bool          `db:"deleted"`
	Created      time.Time     `db:"created"`
	Updated      time.Time     `db:"updated"`
}

const bucketCols = "id, location, storage_class, routes, quota, max_file_size, size, locked, deleted, created, updated"

func (r *bucketRow) bucket() *Bucket {
	b := &Bucket{ID: r.ID, Location: r.Location, StorageClass: r.StorageClass, Quota: r.Quota.Int64,
		MaxFileSize: r.MaxFileSize.Int64, Size: r.Size, Locked: r.Locked, Deleted: r.Deleted,
		Created: r.Created.UTC(), Updated: r.Updated.UTC()}
	if len(r.Routes) > 0 {
		_ = json.Unmarshal(r.Routes, &b.Routes)
	}
	if len(b.Routes) == 0 {
		b.Routes = nil
	}
	return b
}

func nullPositive(n int64) sql.NullInt64 { return sql.NullInt64{Int64: n, Valid: n > 0} }

// CreateBucket creates a bucket.
func (s *Store) CreateBucket(ctx context.Context, o BucketOptions) (*Bucket, error) {
	if o.Quota < 0 || o.MaxFileSize < 0 {
		return nil, userf(ErrInvalid, "negative quota or max file size")
	}
	if err := validateTags(o.Tags); err != nil {
		return nil, err
	}
	if o.StorageClass == "" {
		o.StorageClass = s.cfg.defaultClass
	}
	for _, loc := range append(mapValues(o.Routes), o.Location) {
		if err := s.checkLocation(loc); err != nil {
			return nil, err
		}
	}
	routes, _ := json.Marshal(o.Routes)
	if o.Routes == nil {
		routes = []byte("{}")
	}
	now := s.now()
	id := uuid.NewString()
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO files_buckets (`+bucketCols+`)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`), id, o.Location, o.StorageClass, string(routes),
			nullPositive(o.Quota), nullPositive(o.MaxFileSize), o.Locked, false, s.ts(now), s.ts(now)); err != nil {
			return fmt.Errorf("files: create bucket: %w", err)
		}
		return s.setTags(ctx, tx, id, "", o.Tags, false)
	})
	if err != nil {
		return nil, err
	}
	return s.Bucket(ctx, id)
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Bucket returns a bucket with its tags. A soft-deleted bucket is returned
// with Deleted set; a missing one gives ErrNotFound.
func (s *Store) Bucket(ctx context.Context, id string) (*Bucket, error) {
	b, err := s.getBucket(ctx, s.q(), id, false)
	if err != nil {
		return nil, err
	}
	if b.Tags, err = s.tags(ctx, s.q(), id, ""); err != nil {
		return nil, err
	}
	return b, nil
}

func (s *Store) getBucket(ctx context.Context, q sqldb.Querier, id string, forUpdate bool) (*Bucket, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, userf(ErrNotFound, "bucket %q", id)
	}
	var r bucketRow
	query := "SELECT " + bucketCols + " FROM files_buckets WHERE id = ?"
	if forUpdate {
		query += sqldb.ForUpdate(s.d)
	}
	if err := q.GetContext(ctx, &r, q.Rebind(query), id); err != nil {
		if sqldb.IsNoRows(err) {
			return nil, userf(ErrNotFound, "bucket %s", id)
		}
		return nil, fmt.Errorf("files: get bucket: %w", err)
	}
	return r.bucket(), nil
}

// writableBucket returns the bucket if it exists, is not deleted and not
// locked.
func (s *Store) writableBucket(ctx context.Context, q sqldb.Querier, id string) (*Bucket, error) {
	b, err := s.getBucket(ctx, q, id, false)
	if err != nil {
		return nil, err
	}
	if b.Deleted {
		return nil, userf(ErrNotFound, "bucket %s is deleted", id)
	}
	if b.Locked {
		return nil, userf(ErrLocked, "%s", id)
	}
	return b, nil
}

// BucketUpdate changes a bucket's settings; nil fields are left alone.
type BucketUpdate struct {
	Location     *string
	StorageClass *string
	Routes       map[string]string // replaces the routes when not nil
	Quota        *int64            // 0 removes the quota
	MaxFileSize  *int64            // 0 removes the limit
	Locked       *bool
}

// UpdateBucket changes a bucket's settings. It works on locked buckets (to
// unlock them) but not on deleted ones.
func (s *Store) UpdateBucket(ctx context.Context, id string, u BucketUpdate) (*Bucket, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		b, err := s.getBucket(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if b.Deleted {
			return userf(ErrNotFound, "bucket %s is deleted", id)
		}
		if u.Location != nil {
			if err := s.checkLocation(*u.Location); err != nil {
				return err
			}
			b.Location = *u.Location
		}
		if u.StorageClass != nil {
			b.StorageClass = *u.StorageClass
		}
		if u.Routes != nil {
			for _, l := range u.Routes {
				if err := s.checkLocation(l); err != nil {
					return err
				}
			}
			b.Routes = u.Routes
		}
		if u.Quota != nil {
			if *u.Quota < 0 {
				return userf(ErrInvalid, "negative quota")
			}
			b.Quota = *u.Quota
		}
		if u.MaxFileSize != nil {
			if *u.MaxFileSize < 0 {
				return userf(ErrInvalid, "negative max file size")
			}
			b.MaxFileSize = *u.MaxFileSize
		}
		if u.Locked != nil {
			b.Locked = *u.Locked
		}
		routes, _ := json.Marshal(b.Routes)
		if b.Routes == nil {
			routes = []byte("{}")
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE files_buckets SET location = ?, storage_class = ?, routes = ?,
			quota = ?, max_file_size = ?, locked = ?, updated = ? WHERE id = ?`),
			b.Location, b.StorageClass, string(routes), nullPositive(b.Quota), nullPositive(b.MaxFileSize), b.Locked,
			s.ts(s.now()), id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Bucket(ctx, id)
}

// LockBucket locks (or unlocks) a bucket: a locked bucket refuses writes.
func (s *Store) LockBucket(ctx context.Context, id string, locked bool) error {
	_, err := s.UpdateBucket(ctx, id, BucketUpdate{Locked: &locked})
	return err
}

// DeleteBucket soft-deletes a bucket: it disappears from the API (ErrNotFound
// for writes and reads through the handler) but its rows and bytes stay
// until PurgeBucket.
func (s *Store) DeleteBucket(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := s.getBucket(ctx, tx, id, true); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE files_buckets SET deleted = ?, updated = ? WHERE id = ?"),
			true, s.ts(s.now()), id)
		return err
	})
}

// PurgeBucket removes a bucket and all its object versions, uploads and
// tags. File instances no longer referenced become orphans that
// CollectGarbage removes with their bytes.
func (s *Store) PurgeBucket(ctx context.Context, id string) error {
	// Multipart uploads first: their parts may live where listing does not
	// see them (S3), so they are aborted rather than left to cascade.
	for cursor := ""; ; {
		page, err := s.ListUploads(ctx, id, UploadListOptions{Cursor: cursor})
		if err != nil {
			return err
		}
		for _, u := range page.Uploads {
			if err := s.AbortUpload(ctx, id, u.Key, u.ID); err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) {
				return err
			}
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := s.getBucket(ctx, tx, id, true); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM files_tags WHERE bucket_id = ?",
			"DELETE FROM files_objects WHERE bucket_id = ?",
			"DELETE FROM files_buckets WHERE id = ?",
		} {
			if _, err := tx.ExecContext(ctx, tx.Rebind(q), id); err != nil {
				return fmt.Errorf("files: purge bucket: %w", err)
			}
		}
		return nil
	})
}

// lockBucket locks a bucket's row until the transaction ends (SELECT ...
// FOR UPDATE; SQLite transactions are serialized already) and returns it as
// last committed, refusing a soft-deleted or locked bucket. Every change of
// a bucket's versions or size takes this lock first, so head changes and
// size accounting in a bucket are serialized, and reads made after it in
// the transaction see every earlier change (also under MySQL's REPEATABLE
// READ, whose snapshot starts at the first plain read).
func (s *Store) lockBucket(ctx context.Context, tx *sqlx.Tx, bucketID string) (*Bucket, error) {
	b, err := s.getBucket(ctx, tx, bucketID, true)
	if err != nil {
		return nil, err
	}
	if b.Deleted {
		return nil, userf(ErrNotFound, "bucket %s is deleted", bucketID)
	}
	if b.Locked {
		return nil, userf(ErrLocked, "%s", bucketID)
	}
	return b, nil
}

// addSize changes the size of a bucket locked by lockBucket by delta bytes
// for a file of fileSize bytes, after checking the quota (only growth is
// refused) and the maximum file size against the locked row. It either
// adds the bytes or fails: there is no outcome where a version commits
// without being counted.
func (s *Store) addSize(ctx context.Context, tx *sqlx.Tx, b *Bucket, delta, fileSize int64) error {
	if b.MaxFileSize > 0 && fileSize > b.MaxFileSize {
		return userf(ErrFileTooLarge, "%d > %d bytes", fileSize, b.MaxFileSize)
	}
	if b.Quota > 0 && delta > 0 && b.Size+delta > b.Quota {
		return userf(ErrQuotaExceeded, "%d + %d > %d bytes", b.Size, delta, b.Quota)
	}
	if delta == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE files_buckets SET size = size + ?, updated = ? WHERE id = ?"),
		delta, s.ts(s.now()), b.ID); err != nil {
		return fmt.Errorf("files: update bucket size: %w", err)
	}
	b.Size += delta
	return nil
}

// reserve locks the bucket (see lockBucket) and adds delta bytes for a file
// of fileSize bytes (see addSize).
func (s *Store) reserve(ctx context.Context, tx *sqlx.Tx, bucketID string, delta, fileSize int64) error {
	b, err := s.lockBucket(ctx, tx, bucketID)
	if err != nil {
		return err
	}
	return s.addSize(ctx, tx, b, delta, fileSize)
}
