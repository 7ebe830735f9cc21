package files

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Snapshot creates a new bucket holding a copy of every visible head of
// bucketID (metadata only: the versions share the file instances), with the
// same settings and tags; lock locks the new bucket. The snapshot's size is
// the sum of the copied files (the source's quota is not applied).
func (s *Store) Snapshot(ctx context.Context, bucketID string, lock bool) (*Bucket, error) {
	src, err := s.Bucket(ctx, bucketID)
	if err != nil {
		return nil, err
	}
	if src.Deleted {
		return nil, userf(ErrNotFound, "bucket %s is deleted", bucketID)
	}
	var out *Bucket
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		ts := s.WithTx(tx)
		dst, err := ts.CreateBucket(ctx, BucketOptions{Location: src.Location, StorageClass: src.StorageClass,
			Routes: src.Routes, Quota: src.Quota, MaxFileSize: src.MaxFileSize, Tags: src.Tags})
		if err != nil {
			return err
		}
		if err := ts.syncInto(ctx, tx, bucketID, dst.ID, false, true); err != nil {
			return err
		}
		if lock {
			if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE files_buckets SET locked = ? WHERE id = ?"), true, dst.ID); err != nil {
				return err
			}
		}
		out, err = ts.Bucket(ctx, dst.ID)
		return err
	})
	return out, err
}

// Sync makes dst's visible heads mirror src's: keys missing in dst or whose
// head has a different file get a new version sharing src's file instance;
// with deleteExtras, keys visible in dst but not in src get a delete marker.
// dst's quota, max file size and lock apply.
func (s *Store) Sync(ctx context.Context, srcBucket, dstBucket string, deleteExtras bool) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		return s.WithTx(tx).syncInto(ctx, tx, srcBucket, dstBucket, deleteExtras, false)
	})
}

// headCursor walks a bucket's visible heads in key order one page at a
// time, so a sync holds at most a page of each bucket in memory.
type headCursor struct {
	s      *Store
	bucket string
	limit  int // page size (0 = MaxListLimit)
	page   []*Object
	cursor string
	done   bool
}

// next returns the next head, or nil after the last one.
func (c *headCursor) next(ctx context.Context) (*Object, error) {
	for len(c.page) == 0 {
		if c.done {
			return nil, nil
		}
		p, err := c.s.List(ctx, c.bucket, ListOptions{Cursor: c.cursor, Limit: c.limit})
		if err != nil {
			return nil, err
		}
		c.page, c.cursor, c.done = p.Objects, p.Next, p.Next == ""
	}
	o := c.page[0]
	c.page[0] = nil
	c.page = c.page[1:]
	return o, nil
}

// syncInto merges the two key-ordered listings of heads (keys compare as
// bytes in Go as in every dialect's ORDER BY): memory stays constant in
// the number of objects. Versions it writes in dst are at keys the dst
// listing has already passed, so they never show up in it.
func (s *Store) syncInto(ctx context.Context, tx *sqlx.Tx, srcBucket, dstBucket string, deleteExtras, ignoreQuota bool) error {
	dst, err := s.lockBucket(ctx, tx, dstBucket)
	if err != nil {
		return err
	}
	if ignoreQuota {
		dst.Quota, dst.MaxFileSize = 0, 0
	}
	now := s.now()
	copyHead := func(o *Object) error {
		if err := s.addSize(ctx, tx, dst, o.Size(), o.Size()); err != nil {
			return fmt.Errorf("sync %s: %w", o.Key, err)
		}
		nv, err := s.newVersion(ctx, tx, dstBucket, o.Key, o.File.ID, o.Mimetype, now)
		if err != nil {
			return err
		}
		tags, err := s.tags(ctx, tx, srcBucket, o.VersionID)
		if err != nil {
			return err
		}
		return s.setTags(ctx, tx, dstBucket, nv.VersionID, tags, false)
	}
	src, dsts := &headCursor{s: s, bucket: srcBucket, limit: s.cfg.syncPage}, &headCursor{s: s, bucket: dstBucket, limit: s.cfg.syncPage}
	so, err := src.next(ctx)
	if err != nil {
		return err
	}
	do, err := dsts.next(ctx)
	if err != nil {
		return err
	}
	for so != nil || do != nil {
		switch {
		case do == nil || (so != nil && so.Key < do.Key): // only in src
			if err := copyHead(so); err != nil {
				return err
			}
			so, err = src.next(ctx)
		case so == nil || do.Key < so.Key: // only in dst
			if deleteExtras {
				if _, err := s.newVersion(ctx, tx, dstBucket, do.Key, "", "", now); err != nil {
					return err
				}
			}
			do, err = dsts.next(ctx)
		default: // in both
			if do.File.ID != so.File.ID {
				if err := copyHead(so); err != nil {
					return err
				}
			}
			if so, err = src.next(ctx); err != nil {
				return err
			}
			do, err = dsts.next(ctx)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
