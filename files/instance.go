package files

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// CheckResult is the outcome of a file's last fixity check.
type CheckResult string

// Fixity check results ("" = never checked).
const (
	CheckOK         CheckResult = "ok"
	CheckMismatch   CheckResult = "mismatch"
	CheckUnreadable CheckResult = "unreadable"
)

// Instance statuses.
const (
	statusReady    = "ready"
	statusDeleting = "deleting"
)

// FileInstance is one stored file: its bytes at a storage key in a location.
// Several object versions (in one or several buckets) can share it.
type FileInstance struct {
	ID           string `json:"id"`
	Location     string `json:"location"`
	StorageClass string `json:"storage_class"`
	StorageKey   string `json:"storage_key"`
	Size         int64  `json:"size"`
	// MD5 and SHA256 are "md5:<hex>" and "sha256:<hex>".
	MD5    string `json:"md5"`
	SHA256 string `json:"sha256"`
	// Status is "ready", or "deleting" while GC removes its bytes.
	Status      string      `json:"status"`
	LastCheck   CheckResult `json:"last_check,omitempty"`
	LastCheckAt time.Time   `json:"last_check_at,omitzero"`
	Created     time.Time   `json:"created"`
	Updated     time.Time   `json:"updated"`
}

// Checksum returns the instance's primary checksum ("md5:<hex>"), used as ETag.
func (f *FileInstance) Checksum() string { return f.MD5 }

type instanceRow struct {
	ID           string         `db:"id"`
	Location     string         `db:"location"`
	StorageClass string         `db:"storage_class"`
	StorageKey   string         `db:"storage_key"`
	Size         int64          `db:"size"`
	MD5          string         `db:"md5"`
	SHA256       string         `db:"sha256"`
	Status       string         `db:"status"`
	LastCheck    sql.NullString `db:"last_check"`
	LastCheckAt  sql.NullTime   `db:"last_check_at"`
	Created      time.Time      `db:"created"`
	Updated      time.Time      `db:"updated"`
}

const instanceCols = "id, location, storage_class, storage_key, size, md5, sha256, status, last_check, last_check_at, created, updated"

func (r *instanceRow) instance() *FileInstance {
	f := &FileInstance{ID: r.ID, Location: r.Location, StorageClass: r.StorageClass, StorageKey: r.StorageKey,
		Size: r.Size, MD5: r.MD5, SHA256: r.SHA256, Status: r.Status, LastCheck: CheckResult(r.LastCheck.String),
		Created: r.Created.UTC(), Updated: r.Updated.UTC()}
	if r.LastCheckAt.Valid {
		f.LastCheckAt = r.LastCheckAt.Time.UTC()
	}
	return f
}

// FileInstance returns a file instance by id.
func (s *Store) FileInstance(ctx context.Context, id string) (*FileInstance, error) {
	return s.getInstance(ctx, s.q(), id, false)
}

func (s *Store) getInstance(ctx context.Context, q sqldb.Querier, id string, forUpdate bool) (*FileInstance, error) {
	var r instanceRow
	query := "SELECT " + instanceCols + " FROM files_instances WHERE id = ?"
	if forUpdate {
		query += sqldb.ForUpdate(s.d)
	}
	if err := q.GetContext(ctx, &r, q.Rebind(query), id); err != nil {
		if sqldb.IsNoRows(err) {
			return nil, fmt.Errorf("%w: file %s", ErrNotFound, id)
		}
		return nil, fmt.Errorf("files: get file: %w", err)
	}
	return r.instance(), nil
}

func (s *Store) insertInstance(ctx context.Context, tx *sqlx.Tx, f *FileInstance) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO files_instances (`+instanceCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)`),
		f.ID, f.Location, f.StorageClass, f.StorageKey, f.Size, f.MD5, f.SHA256, statusReady, s.ts(f.Created), s.ts(f.Created))
	if err != nil {
		return fmt.Errorf("files: insert file instance: %w", err)
	}
	f.Status = statusReady
	return nil
}

// storageKeyFor returns the storage key of a new file instance or upload:
// <prefix><id[0:2]>/<id[2:4]>/<id> (spreads keys over directories on file://).
func (s *Store) storageKeyFor(id string) string {
	return s.cfg.keyPrefix + id[0:2] + "/" + id[2:4] + "/" + id
}
