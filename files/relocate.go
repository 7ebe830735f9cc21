package files

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/storage"
)

// MoveOptions tune MoveFile and MigrateLocation.
type MoveOptions struct {
	// StorageClass, when set, becomes the moved file's storage class.
	StorageClass string
	// Grace is how long to wait after switching the row before deleting the
	// old bytes, for readers that looked the row up just before the switch
	// but had not opened the bytes yet (readers that already opened them
	// keep reading either way). 0 deletes at once.
	Grace time.Duration
	// KeepOld leaves the old bytes in place; they are unreferenced, so
	// CollectGarbage removes them after its BytesGrace.
	KeepOld bool
}

// MoveFile moves a file instance to another location: it copies the bytes
// to a new key there (verifying size and sha256 while copying), switches
// the instance row to the new location and key in a short transaction
// (every version sharing the instance follows), then deletes the old bytes
// (after opts.Grace). A crash at any point leaves the row pointing at
// complete bytes: before the switch at the old ones, after it at the new
// ones; the bytes it leaves unreferenced are removed by CollectGarbage.
func (s *Store) MoveFile(ctx context.Context, fileID, dstLocation string, opts MoveOptions) (*FileInstance, error) {
	f, err := s.FileInstance(ctx, fileID)
	if err != nil {
		return nil, err
	}
	if f.Status != statusReady {
		return nil, fmt.Errorf("%w: file %s is %s", ErrConflict, fileID, f.Status)
	}
	dst, err := s.location(dstLocation)
	if err != nil {
		return nil, err
	}
	src, err := s.location(f.Location)
	if err != nil {
		return nil, err
	}
	class := f.StorageClass
	if opts.StorageClass != "" {
		class = opts.StorageClass
	}
	if dst == src && class == f.StorageClass {
		return f, nil
	}
	newKey := f.StorageKey
	if dst != src {
		newKey = s.storageKeyFor(uuid.NewString())
		if _, err := dst.Copy(ctx, newKey, src, f.StorageKey, storage.WriteOptions{ExpectedSize: f.Size, ExpectedChecksum: f.SHA256}); err != nil {
			return nil, fmt.Errorf("files: copy %s to %s: %w", fileID, dst.Name(), err)
		}
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE files_instances SET location = ?, storage_key = ?, storage_class = ?, updated = ?
			WHERE id = ? AND location = ? AND storage_key = ? AND status = ?`),
			dst.Name(), newKey, class, s.ts(s.now()), fileID, f.Location, f.StorageKey, statusReady)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: file %s changed while moving", ErrConflict, fileID)
		}
		return nil
	})
	if err != nil {
		if dst != src {
			s.discard(dst, newKey)
		}
		return nil, err
	}
	if dst != src && !opts.KeepOld {
		if opts.Grace > 0 {
			t := time.NewTimer(opts.Grace)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return s.FileInstance(context.WithoutCancel(ctx), fileID) // old bytes left for GC
			}
		}
		if err := src.Delete(ctx, f.StorageKey); err != nil && !errors.Is(err, storage.ErrNotFound) {
			s.cfg.log.Warn("files: old bytes left for GC after move", "file", fileID, "location", src.Name(), "key", f.StorageKey, "err", err)
		}
	}
	return s.FileInstance(ctx, fileID)
}

// MigrateProgress reports bulk migration progress.
type MigrateProgress struct {
	Done, Failed, Total int
	Bytes               int64
	Last                *FileInstance // the file just handled
	Err                 error         // its error, if any
}

// MigrateLocation moves every file instance of location from to location
// to, concurrency files at a time (default 4), calling progress (if not
// nil, never concurrently) after each file. Files that fail are reported
// to progress and skipped; the first such error is returned at the end.
func (s *Store) MigrateLocation(ctx context.Context, from, to string, concurrency int, opts MoveOptions, progress func(MigrateProgress)) error {
	if _, err := s.location(to); err != nil {
		return err
	}
	if concurrency <= 0 {
		concurrency = 4
	}
	var total int
	if err := s.q().GetContext(ctx, &total, s.q().Rebind("SELECT COUNT(*) FROM files_instances WHERE location = ? AND status = ?"), from, statusReady); err != nil {
		return fmt.Errorf("files: migrate: %w", err)
	}
	var (
		mu       sync.Mutex
		p        = MigrateProgress{Total: total}
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, concurrency)
		after    = ""
	)
	for {
		var ids []string
		if err := s.q().SelectContext(ctx, &ids, s.q().Rebind("SELECT id FROM files_instances WHERE location = ? AND status = ? AND id > ? ORDER BY id LIMIT 500"),
			from, statusReady, after); err != nil {
			wg.Wait()
			return fmt.Errorf("files: migrate: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		after = ids[len(ids)-1]
		for _, id := range ids {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				f, err := s.MoveFile(ctx, id, to, opts)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					p.Failed++
					if firstErr == nil {
						firstErr = err
					}
					p.Last, p.Err = &FileInstance{ID: id}, err
				} else {
					p.Done++
					p.Bytes += f.Size
					p.Last, p.Err = f, nil
				}
				if progress != nil {
					progress(p)
				}
			}()
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return firstErr
}
