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

func (s *Store) syncInto(ctx context.Context, tx *sqlx.Tx, srcBucket, dstBucket string, deleteExtras, ignoreQuota bool) error {
	if err := s.reserve(ctx, tx, dstBucket, 0, 0); err != nil { // locks dst
		return err
	}
	heads := func(bucket string) (map[string]*Object, []string, error) {
		m := map[string]*Object{}
		var keys []string
		cursor := ""
		for {
			page, err := s.List(ctx, bucket, ListOptions{Cursor: cursor})
			if err != nil {
				return nil, nil, err
			}
			for _, o := range page.Objects {
				m[o.Key] = o
				keys = append(keys, o.Key)
			}
			if page.Next == "" {
				return m, keys, nil
			}
			cursor = page.Next
		}
	}
	srcHeads, srcKeys, err := heads(srcBucket)
	if err != nil {
		return err
	}
	dstHeads, dstKeys, err := heads(dstBucket)
	if err != nil {
		return err
	}
	now := s.now()
	for _, k := range srcKeys {
		o := srcHeads[k]
		if d, ok := dstHeads[k]; ok && d.File.ID == o.File.ID {
			continue
		}
		if ignoreQuota {
			if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE files_buckets SET size = size + ? WHERE id = ?"), o.Size(), dstBucket); err != nil {
				return err
			}
		} else if err := s.reserve(ctx, tx, dstBucket, o.Size(), o.Size()); err != nil {
			return fmt.Errorf("sync %s: %w", k, err)
		}
		nv, err := s.newVersion(ctx, tx, dstBucket, k, o.File.ID, o.Mimetype, now)
		if err != nil {
			return err
		}
		tags, err := s.tags(ctx, tx, srcBucket, o.VersionID)
		if err != nil {
			return err
		}
		if err := s.setTags(ctx, tx, dstBucket, nv.VersionID, tags, false); err != nil {
			return err
		}
	}
	if deleteExtras {
		for _, k := range dstKeys {
			if _, ok := srcHeads[k]; ok {
				continue
			}
			if _, err := s.newVersion(ctx, tx, dstBucket, k, "", "", now); err != nil {
				return err
			}
		}
	}
	return nil
}
