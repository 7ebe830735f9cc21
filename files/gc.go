package files

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/storage"
)

// GCOptions tune CollectGarbage. Zero values take the defaults.
type GCOptions struct {
	// OrphanGrace: orphaned file instances (no version references them) are
	// removed once created at least this long ago (default 0).
	OrphanGrace time.Duration
	// UploadTTL: multipart uploads not touched for this long are aborted,
	// whatever their state, unfinished ones included (default 24h).
	UploadTTL time.Duration
	// BytesGrace: stored bytes under the store's key prefix that no row
	// references are deleted once older than this (default 6h). It must
	// exceed the longest upload, so that bytes written but not yet
	// committed are never taken.
	BytesGrace time.Duration
	// SkipBytes skips the (listing) sweep of unreferenced bytes and of the
	// empty directories file:// locations keep after deletions and
	// aborted or failed uploads.
	SkipBytes bool
}

// GCReport counts what CollectGarbage removed.
type GCReport struct {
	OrphanFiles int   // file instances removed (rows and bytes)
	Uploads     int   // abandoned multipart uploads removed
	StrayBytes  int   // unreferenced stored objects removed
	EmptyDirs   int   // empty directories removed from file:// locations
	BytesFreed  int64 // bytes of orphan files and stray objects
}

// CollectGarbage removes orphaned file instances, abandoned multipart
// uploads and stored bytes no row references. It never leaves a row
// pointing at missing bytes: an instance is first marked "deleting" in a
// transaction that checks (under a row lock) that nothing references it,
// then its bytes are deleted, then its row; a crash in between leaves a
// "deleting" row that the next run finishes. Safe to run concurrently with
// uploads, reads and other collectors.
func (s *Store) CollectGarbage(ctx context.Context, o GCOptions) (*GCReport, error) {
	if o.UploadTTL <= 0 {
		o.UploadTTL = 24 * time.Hour
	}
	if o.BytesGrace <= 0 {
		o.BytesGrace = 6 * time.Hour
	}
	rep := &GCReport{}
	if err := s.collectOrphans(ctx, o, rep); err != nil {
		return rep, err
	}
	if err := s.collectUploads(ctx, o, rep); err != nil {
		return rep, err
	}
	if !o.SkipBytes {
		for _, loc := range s.locs.All() {
			if err := s.collectBytes(ctx, loc, o, rep); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

func (s *Store) collectOrphans(ctx context.Context, o GCOptions, rep *GCReport) error {
	cutoff := s.now().Add(-o.OrphanGrace)
	after := ""
	for {
		var rows []instanceRow
		err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT `+instanceCols+` FROM files_instances f
			WHERE f.id > ? AND (f.status = ? OR f.created <= ?)
			AND NOT EXISTS (SELECT 1 FROM files_objects o WHERE o.file_id = f.id) ORDER BY f.id LIMIT 500`),
			after, statusDeleting, s.ts(cutoff))
		if err != nil {
			return fmt.Errorf("files: gc: find orphans: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		after = rows[len(rows)-1].ID
		for i := range rows {
			f := rows[i].instance()
			removed, err := s.removeInstance(ctx, f)
			if err != nil {
				return err
			}
			if removed {
				rep.OrphanFiles++
				rep.BytesFreed += f.Size
			}
		}
	}
}

// removeInstance deletes an unreferenced instance: mark, delete bytes,
// delete row. It returns false if the instance turned out to be referenced.
func (s *Store) removeInstance(ctx context.Context, f *FileInstance) (bool, error) {
	marked := false
	err := sqldb.InTx(ctx, s.db, nil, func(tx *sqlx.Tx) error {
		marked = false
		var status string
		// Lock the row: a version being created for this instance locks it
		// too (newVersion), so the reference check below cannot miss it.
		if err := tx.GetContext(ctx, &status, tx.Rebind("SELECT status FROM files_instances WHERE id = ?"+sqldb.ForUpdate(s.d)), f.ID); err != nil {
			if sqldb.IsNoRows(err) {
				return nil
			}
			return err
		}
		var refs []int64
		if err := tx.SelectContext(ctx, &refs, tx.Rebind("SELECT id FROM files_objects WHERE file_id = ? LIMIT 1"+sqldb.ForUpdate(s.d)), f.ID); err != nil {
			return err
		}
		if len(refs) > 0 {
			return nil
		}
		if status != statusDeleting {
			if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE files_instances SET status = ?, updated = ? WHERE id = ?"), statusDeleting, s.ts(s.now()), f.ID); err != nil {
				return err
			}
		}
		marked = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("files: gc: mark %s: %w", f.ID, err)
	}
	if !marked {
		return false, nil
	}
	if loc, err := s.location(f.Location); err == nil {
		if err := loc.Delete(ctx, f.StorageKey); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return false, fmt.Errorf("files: gc: delete bytes of %s: %w", f.ID, err)
		}
	}
	err = sqldb.InTx(ctx, s.db, nil, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM files_instances WHERE id = ? AND status = ?"), f.ID, statusDeleting)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("files: gc: delete row %s: %w", f.ID, err)
	}
	return true, nil
}

func (s *Store) collectUploads(ctx context.Context, o GCOptions, rep *GCReport) error {
	cutoff := s.ts(s.now().Add(-o.UploadTTL))
	for {
		var rows []uploadRow
		if err := s.db.SelectContext(ctx, &rows, s.db.Rebind("SELECT "+uploadCols+" FROM files_uploads WHERE updated < ? OR status = ? ORDER BY updated LIMIT 100"),
			cutoff, uploadAborted); err != nil {
			return fmt.Errorf("files: gc: find uploads: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		progressed := false
		for i := range rows {
			u := rows[i].upload()
			// Claim it: a client touching it meanwhile (updated changes) wins.
			var claimed bool
			err := sqldb.InTx(ctx, s.db, nil, func(tx *sqlx.Tx) error {
				res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE files_uploads SET status = ? WHERE id = ? AND (status = ? OR updated < ?)"),
					uploadAborted, u.ID, uploadAborted, cutoff)
				if err != nil {
					return err
				}
				n, _ := res.RowsAffected()
				claimed = n == 1 || u.Status == uploadAborted
				return nil
			})
			if err != nil {
				return fmt.Errorf("files: gc: claim upload %s: %w", u.ID, err)
			}
			if !claimed {
				continue
			}
			if err := s.removeUpload(ctx, u); err != nil {
				return fmt.Errorf("files: gc: %w", err)
			}
			rep.Uploads++
			progressed = true
		}
		if !progressed {
			return nil
		}
	}
}

func (s *Store) collectBytes(ctx context.Context, loc *storage.Location, o GCOptions, rep *GCReport) error {
	cutoff := s.cfg.now().Add(-o.BytesGrace)
	var batch []storage.ObjectInfo
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		keys := make([]string, 0, len(batch))
		for _, b := range batch {
			keys = append(keys, b.Key)
			if final, _, ok := storage.IsPartKey(b.Key); ok {
				keys = append(keys, final)
			}
		}
		referenced := map[string]bool{}
		for _, q := range []string{
			"SELECT storage_key FROM files_instances WHERE location = ? AND storage_key IN (?)",
			"SELECT storage_key FROM files_uploads WHERE location = ? AND storage_key IN (?)",
		} {
			query, args, err := sqldb.In(s.db, q, loc.Name(), keys)
			if err != nil {
				return err
			}
			var got []string
			if err := s.db.SelectContext(ctx, &got, query, args...); err != nil {
				return fmt.Errorf("files: gc: check keys: %w", err)
			}
			for _, k := range got {
				referenced[k] = true
			}
		}
		for _, b := range batch {
			k := b.Key
			if final, _, ok := storage.IsPartKey(k); ok {
				k = final
			}
			if referenced[k] {
				continue
			}
			if err := loc.Delete(ctx, b.Key); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("files: gc: delete stray %s: %w", b.Key, err)
			}
			rep.StrayBytes++
			rep.BytesFreed += b.Size
		}
		batch = batch[:0]
		return nil
	}
	if loc.Scheme() == "s3" {
		// Native multipart uploads hold bytes List does not show; abort the
		// ones no row knows about (a crash between starting and recording).
		for up, err := range loc.Uploads(ctx, s.cfg.keyPrefix) {
			if err != nil {
				return err
			}
			if !up.Initiated.Before(cutoff) {
				continue
			}
			var n int
			if err := s.db.GetContext(ctx, &n, s.db.Rebind("SELECT COUNT(*) FROM files_uploads WHERE location = ? AND storage_key = ? AND native_id = ?"),
				loc.Name(), up.Key, up.UploadID); err != nil {
				return fmt.Errorf("files: gc: check upload: %w", err)
			}
			if n > 0 {
				continue
			}
			if m, err := loc.ResumeMultipart(up.Key, up.UploadID); err == nil {
				if err := m.Abort(ctx); err != nil && !errors.Is(err, storage.ErrNotFound) {
					return fmt.Errorf("files: gc: abort stray upload %s: %w", up.Key, err)
				}
				rep.Uploads++
			}
		}
	}
	for info, err := range loc.List(ctx, s.cfg.keyPrefix) {
		if err != nil {
			return err
		}
		if !info.ModTime.Before(cutoff) || !strings.HasPrefix(info.Key, s.cfg.keyPrefix) {
			continue
		}
		batch = append(batch, info)
		if len(batch) == 200 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	// Deleted files, aborted writes and multipart parts leave their
	// directories behind on file:// locations; the ones untouched for
	// BytesGrace cannot be in use by a write (which would have updated
	// their modification time by creating its file).
	n, err := loc.RemoveEmptyDirs(ctx, s.cfg.keyPrefix, cutoff)
	rep.EmptyDirs += n
	if err != nil {
		return fmt.Errorf("files: gc: %w", err)
	}
	return nil
}
