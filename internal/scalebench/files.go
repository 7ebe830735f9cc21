package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/storage"
)

// filesStages measures the files package on a bucket of c.files object
// versions (one per key), c.orphans orphaned file instances and c.uploads
// multipart uploads in progress. The rows are set up with multi-row
// INSERTs (the bytes of the bulk objects are not written: listing,
// snapshot, sync and the orphan sweep read only metadata, and GC treats
// missing bytes as already gone); everything measured goes through the
// public API of files.Store.
func filesStages(ctx context.Context, c config) ([]stageResult, error) {
	dir := filepath.Join(c.dir, "files")
	if err := os.MkdirAll(filepath.Join(dir, "bytes"), 0o755); err != nil {
		return nil, err
	}
	dbURL := c.filesDB
	if dbURL == "" {
		dbURL = "sqlite://" + filepath.Join(dir, "files.db")
	}
	db, err := sqldb.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	locs, err := storage.Open(ctx, "file://"+filepath.Join(dir, "bytes"))
	if err != nil {
		return nil, err
	}
	fs, err := files.New(ctx, db, locs)
	if err != nil {
		return nil, err
	}
	sqlite := strings.HasPrefix(dbURL, "sqlite:")
	var out []stageResult
	stage := func(name string, fn func() (string, error)) error {
		r, err := measure(name, fn)
		out = append(out, r)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	var src *files.Bucket
	err = stage(fmt.Sprintf("files: setup (SQL, %d+%d+%d rows)", c.files, c.orphans, c.uploads), func() (string, error) {
		var err error
		if src, err = fs.CreateBucket(ctx, files.BucketOptions{}); err != nil {
			return "", err
		}
		return "", bulkFiles(ctx, db, sqlite, src.ID, c.files, c.orphans, c.uploads)
	})
	if err != nil {
		return out, err
	}
	// listing: every page of 1000 heads, in key order
	err = stage("files: list every page", func() (string, error) {
		var lat []time.Duration
		n, cursor := 0, ""
		for {
			t := time.Now()
			p, err := fs.List(ctx, src.ID, files.ListOptions{Cursor: cursor})
			if err != nil {
				return "", err
			}
			lat = append(lat, time.Since(t))
			n += len(p.Objects)
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		if n != c.files {
			return "", fmt.Errorf("listed %d objects, want %d", n, c.files)
		}
		p := percentiles(lat)
		return fmt.Sprintf("%d objects in %d pages of 1000, page p50/p95/p99 %s / %s / %s", n, len(lat), p[0], p[1], p[2]), nil
	})
	if err != nil {
		return out, err
	}
	var snap *files.Bucket
	err = stage("files: snapshot", func() (string, error) {
		var err error
		snap, err = fs.Snapshot(ctx, src.ID, false)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d heads copied", c.files), nil
	})
	if err != nil {
		return out, err
	}
	// change 1,000 keys of the source through the public API, then sync
	changed := min(1000, c.files)
	err = stage("files: put (new versions)", func() (string, error) {
		for i := range changed {
			key := objectKey(i * max(1, c.files/changed))
			body := fmt.Appendf(nil, "version 2 of %s\n", key)
			if _, err := fs.Put(ctx, src.ID, key, bytes.NewReader(body), files.PutOptions{Size: int64(len(body))}); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("%d objects", changed), nil
	})
	if err != nil {
		return out, err
	}
	err = stage("files: sync", func() (string, error) {
		if err := fs.Sync(ctx, src.ID, snap.ID, true); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d heads compared, %d copied", c.files, changed), nil
	})
	if err != nil {
		return out, err
	}
	err = stage("files: list uploads", func() (string, error) {
		var lat []time.Duration
		n, cursor := 0, ""
		for {
			t := time.Now()
			p, err := fs.ListUploads(ctx, src.ID, files.UploadListOptions{Cursor: cursor})
			if err != nil {
				return "", err
			}
			lat = append(lat, time.Since(t))
			n += len(p.Uploads)
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		if n != c.uploads {
			return "", fmt.Errorf("listed %d uploads, want %d", n, c.uploads)
		}
		p := percentiles(lat)
		return fmt.Sprintf("%d uploads in %d pages, page p50/p99 %s / %s", n, len(lat), p[0], p[2]), nil
	})
	if err != nil {
		return out, err
	}
	err = stage("files: GC of orphans", func() (string, error) {
		rep, err := fs.CollectGarbage(ctx, files.GCOptions{SkipBytes: true})
		if err != nil {
			return "", err
		}
		if rep.OrphanFiles != c.orphans {
			return "", fmt.Errorf("GC removed %d orphans, want %d", rep.OrphanFiles, c.orphans)
		}
		return fmt.Sprintf("%d orphans removed", rep.OrphanFiles), nil
	})
	return out, err
}

func objectKey(i int) string { return fmt.Sprintf("data/%03d/%08d.dat", i%1000, i) }

// bulkFiles inserts objects heads (each with its own file instance),
// orphans instances without any version and uploads pending multipart
// uploads, 500 rows per statement.
func bulkFiles(ctx context.Context, db *sqlx.DB, sqlite bool, bucket string, objects, orphans, uploads int) error {
	now := time.Now().UTC().Add(-time.Minute).Truncate(time.Microsecond)
	var ts any = now
	if sqlite {
		ts = now.Format("2006-01-02 15:04:05.000000")
	}
	const batch = 500
	storageKey := func(id string) string { return "files/" + id[0:2] + "/" + id[2:4] + "/" + id }
	insert := func(tx *sqlx.Tx, head string, cols int, rows [][]any) error {
		if len(rows) == 0 {
			return nil
		}
		var q strings.Builder
		q.WriteString(head)
		ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
		args := make([]any, 0, cols*len(rows))
		for i, r := range rows {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(ph)
			args = append(args, r...)
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(q.String()), args...)
		return err
	}
	const instHead = "INSERT INTO files_instances (id, location, storage_class, storage_key, size, md5, sha256, status, created, updated) VALUES "
	const objHead = "INSERT INTO files_objects (version_id, bucket_id, object_key, file_id, mimetype, is_head, created, updated) VALUES "
	const upHead = "INSERT INTO files_uploads (id, bucket_id, object_key, size, part_size, location, storage_class, storage_key, native_id, mimetype, status, created, updated) VALUES "
	var total int64
	for start := 0; start < objects+orphans+uploads; start += batch {
		err := sqldb.InTx(ctx, db, nil, func(tx *sqlx.Tx) error {
			var inst, objs, ups [][]any
			for i := start; i < min(start+batch, objects+orphans+uploads); i++ {
				id := uuid.NewString()
				size := int64(1024 + i%4096)
				switch {
				case i < objects+orphans:
					inst = append(inst, []any{id, "default", "standard", storageKey(id), size, "md5:x", "sha256:y", "ready", ts, ts})
					if i < objects {
						objs = append(objs, []any{uuid.NewString(), bucket, objectKey(i), id, "application/octet-stream", true, ts, ts})
						total += size
					}
				default:
					j := i - objects - orphans
					ups = append(ups, []any{id, bucket, fmt.Sprintf("uploads/%08d.dat", j), int64(100 << 20), int64(5 << 20),
						"default", "standard", storageKey(id), "", "application/octet-stream", "pending", ts, ts})
				}
			}
			if err := insert(tx, instHead, 10, inst); err != nil {
				return err
			}
			if err := insert(tx, objHead, 8, objs); err != nil {
				return err
			}
			return insert(tx, upHead, 13, ups)
		})
		if err != nil {
			return fmt.Errorf("bulk insert: %w", err)
		}
	}
	_, err := db.ExecContext(ctx, db.Rebind("UPDATE files_buckets SET size = size + ? WHERE id = ?"), total, bucket)
	return err
}
