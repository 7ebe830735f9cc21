package files

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// Object is one version of an object in a bucket. A version without a file
// is a delete marker.
type Object struct {
	VersionID string            `json:"version_id"`
	BucketID  string            `json:"bucket_id"`
	Key       string            `json:"key"`
	IsHead    bool              `json:"is_head"`
	Mimetype  string            `json:"mimetype,omitempty"`
	File      *FileInstance     `json:"file,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
	Created   time.Time         `json:"created"`
	Updated   time.Time         `json:"updated"`

	seq int64
}

// DeleteMarker reports whether the version is a delete marker.
func (o *Object) DeleteMarker() bool { return o.File == nil }

// Size returns the file's size (0 for a delete marker).
func (o *Object) Size() int64 {
	if o.File == nil {
		return 0
	}
	return o.File.Size
}

type objectRow struct {
	Seq       int64     `db:"seq"`
	VersionID string    `db:"version_id"`
	BucketID  string    `db:"bucket_id"`
	Key       string    `db:"object_key"`
	FileID    *string   `db:"file_id"`
	Mimetype  string    `db:"mimetype"`
	IsHead    bool      `db:"is_head"`
	Created   time.Time `db:"created"`
	Updated   time.Time `db:"updated"`

	FID           sql.NullString `db:"f_id"`
	FLocation     sql.NullString `db:"f_location"`
	FStorageClass sql.NullString `db:"f_storage_class"`
	FStorageKey   sql.NullString `db:"f_storage_key"`
	FSize         sql.NullInt64  `db:"f_size"`
	FMD5          sql.NullString `db:"f_md5"`
	FSHA256       sql.NullString `db:"f_sha256"`
	FStatus       sql.NullString `db:"f_status"`
	FLastCheck    sql.NullString `db:"f_last_check"`
	FLastCheckAt  sql.NullTime   `db:"f_last_check_at"`
	FCreated      sql.NullTime   `db:"f_created"`
	FUpdated      sql.NullTime   `db:"f_updated"`
}

const objectSelect = `SELECT o.id AS seq, o.version_id, o.bucket_id, o.object_key, o.file_id, o.mimetype, o.is_head, o.created, o.updated,
	f.id AS f_id, f.location AS f_location, f.storage_class AS f_storage_class, f.storage_key AS f_storage_key,
	f.size AS f_size, f.md5 AS f_md5, f.sha256 AS f_sha256, f.status AS f_status, f.last_check AS f_last_check,
	f.last_check_at AS f_last_check_at, f.created AS f_created, f.updated AS f_updated
	FROM files_objects o LEFT JOIN files_instances f ON f.id = o.file_id `

func (r *objectRow) object() *Object {
	o := &Object{seq: r.Seq, VersionID: r.VersionID, BucketID: r.BucketID, Key: r.Key, IsHead: r.IsHead,
		Mimetype: r.Mimetype, Created: r.Created.UTC(), Updated: r.Updated.UTC()}
	if r.FID.Valid {
		ir := instanceRow{ID: r.FID.String, Location: r.FLocation.String, StorageClass: r.FStorageClass.String,
			StorageKey: r.FStorageKey.String, Size: r.FSize.Int64, MD5: r.FMD5.String, SHA256: r.FSHA256.String,
			Status: r.FStatus.String, LastCheck: r.FLastCheck, LastCheckAt: r.FLastCheckAt,
			Created: r.FCreated.Time, Updated: r.FUpdated.Time}
		o.File = ir.instance()
	}
	return o
}

// Object returns the head version of key; ErrNotFound when there is none or
// the head is a delete marker. With a versionID it returns that version
// (which may be a delete marker). The bucket must exist and not be deleted.
func (s *Store) Object(ctx context.Context, bucketID, key, versionID string) (*Object, error) {
	key = NormalizeKey(key)
	b, err := s.getBucket(ctx, s.q(), bucketID, false)
	if err != nil {
		return nil, err
	}
	if b.Deleted {
		return nil, userf(ErrNotFound, "bucket %s is deleted", bucketID)
	}
	o, err := s.getObject(ctx, s.q(), bucketID, key, versionID)
	if err != nil {
		return nil, err
	}
	if versionID == "" && o.DeleteMarker() {
		return nil, userf(ErrNotFound, "%s/%s is deleted", bucketID, key)
	}
	if o.Tags, err = s.tags(ctx, s.q(), bucketID, o.VersionID); err != nil {
		return nil, err
	}
	return o, nil
}

// Head's statements: one point lookup each, through a unique index (the
// head index, a partial index on is_head or MySQL's head_key column, or
// version_id), the instance and bucket rows joined by primary key. The
// bucket's deleted flag is tested as a column, not compared with a bound
// value.
//
// On SQLite every bound value is wrapped in CAST(? AS TEXT): the planner
// marks a join's parameters compared with "=" (a bare ? term) as "re-plan
// when rebound", and go-sqlite3 clears the bindings before every query,
// which then re-parses and re-plans the statement at every call (60-70 µs
// of a ~10 µs lookup, and the driver rebuilds its column metadata). A CAST
// is not a bare parameter, the indexes still apply (the columns are TEXT),
// and the prepared plan is reused.
var (
	headByKey     = headQuery(headSelect, "o.bucket_id = ? AND o.object_key = ? AND o.is_head", "?")
	headByVersion = headQuery(headSelect, "o.bucket_id = ? AND o.version_id = ? AND o.object_key = ?", "?")
	// MySQL has no partial indexes: head_key is the key of head rows only.
	headByKeyMySQL      = headQuery(headSelect, "o.bucket_id = ? AND o.head_key = ?", "?")
	headByKeySQLite     = headQuery(headSelectText, "o.bucket_id = ? AND o.object_key = ? AND o.is_head", "CAST(? AS TEXT)")
	headByVersionSQLite = headQuery(headSelectText, "o.bucket_id = ? AND o.version_id = ? AND o.object_key = ?", "CAST(? AS TEXT)")
)

// headSelect reads what objectSelect does but the bucket id, key and file
// id, which the lookup's arguments and f.id give (each text column is two
// allocations in go-sqlite3). headSelectText, for SQLite, reads the
// timestamps as text (parsed by sqlTime): go-sqlite3 parses a TIMESTAMP
// column by trying its layouts in turn, and the two it tries before the
// one Store.ts writes fail, building an error each time, for each of the
// five timestamps.
var (
	headSelect     = headColumns(func(col string) string { return col })
	headSelectText = headColumns(func(col string) string { return "CAST(" + col + " AS TEXT)" })
)

func headColumns(ts func(col string) string) string {
	return "SELECT o.id, o.version_id, o.mimetype, o.is_head, " + ts("o.created") + ", " + ts("o.updated") + `,
	f.id, f.location, f.storage_class, f.storage_key, f.size, f.md5, f.sha256, f.status, f.last_check,
	` + ts("f.last_check_at") + ", " + ts("f.created") + ", " + ts("f.updated") + `
	FROM files_objects o LEFT JOIN files_instances f ON f.id = o.file_id `
}

func headQuery(sel, where, param string) string {
	return sel + "JOIN files_buckets b ON b.id = o.bucket_id WHERE NOT b.deleted AND " +
		strings.ReplaceAll(where, "?", param)
}

// headRow is a row of headSelect (or headSelectText), scanned without
// sqlx's reflection, in one allocation.
type headRow struct {
	objectRow
	seq, fSize                                         sqlInt
	created, updated, fLastCheckAt, fCreated, fUpdated sqlTime
}

func (r *headRow) scan(row *sql.Row, bucketID, key string) error {
	if err := row.Scan(&r.seq, &r.VersionID, &r.Mimetype, &r.IsHead, &r.created, &r.updated,
		&r.FID, &r.FLocation, &r.FStorageClass, &r.FStorageKey, &r.fSize, &r.FMD5, &r.FSHA256, &r.FStatus, &r.FLastCheck,
		&r.fLastCheckAt, &r.fCreated, &r.fUpdated); err != nil {
		return err
	}
	r.Seq, r.FSize = r.seq.Int64, sql.NullInt64(r.fSize)
	r.BucketID, r.Key = bucketID, key
	if r.FID.Valid {
		r.FileID = &r.FID.String
	}
	r.Created, r.Updated = r.created.Time, r.updated.Time
	r.FLastCheckAt = sql.NullTime(r.fLastCheckAt)
	r.FCreated, r.FUpdated = sql.NullTime(r.fCreated), sql.NullTime(r.fUpdated)
	return nil
}

// sqlInt scans an integer column as database/sql.NullInt64 does, without
// its reflection for the int64 the drivers return.
type sqlInt sql.NullInt64

func (n *sqlInt) Scan(v any) error {
	switch v := v.(type) {
	case int64:
		*n = sqlInt{Int64: v, Valid: true}
		return nil
	case nil:
		*n = sqlInt{}
		return nil
	}
	return (*sql.NullInt64)(n).Scan(v)
}

// sqlTime scans a timestamp: a time.Time (PostgreSQL, MySQL, a SQLite
// TIMESTAMP column) or SQLite text in the layout Store.ts writes (or
// another go-sqlite3 reads), in UTC; NULL leaves it invalid.
type sqlTime sql.NullTime

// sqliteTimeLayouts: the layout Store.ts writes first, then the others
// go-sqlite3 accepts.
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

func (t *sqlTime) Scan(v any) error {
	var s string
	switch v := v.(type) {
	case nil:
		*t = sqlTime{}
		return nil
	case time.Time:
		*t = sqlTime{Time: v, Valid: true}
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("files: scan %T as a time", v)
	}
	if tm, ok := parseSQLiteTime(s); ok {
		*t = sqlTime{Time: tm, Valid: true}
		return nil
	}
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range sqliteTimeLayouts {
		if tm, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			*t = sqlTime{Time: tm, Valid: true}
			return nil
		}
	}
	return fmt.Errorf("files: bad timestamp %q", s)
}

// parseSQLiteTime parses "2006-01-02 15:04:05" with an optional fraction
// of up to nine digits (what Store.ts writes), in UTC, as
// time.ParseInLocation with the first of sqliteTimeLayouts does; ok is
// false for anything else (the layouts are then tried in turn).
func parseSQLiteTime(s string) (t time.Time, ok bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, j int) int {
		n := 0
		for ; i < j; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec := num(11, 13), num(14, 16), num(17, 19)
	nsec := 0
	if rest := s[19:]; rest != "" {
		if rest[0] != '.' || len(rest) < 2 || len(rest) > 10 {
			return time.Time{}, false
		}
		if nsec = num(20, len(s)); nsec < 0 {
			return time.Time{}, false
		}
		for i := len(rest) - 1; i < 9; i++ {
			nsec *= 10
		}
	}
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // past the end of the month
		return time.Time{}, false
	}
	return t, true
}

// Head is Object without tags, in a single query (bucket checks included):
// the download fast path.
func (s *Store) Head(ctx context.Context, bucketID, key, versionID string) (*Object, error) {
	key = NormalizeKey(key)
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(bucketID); err != nil {
		return nil, userf(ErrNotFound, "bucket %q", bucketID)
	}
	// One point lookup (see headByKey); the statement is prepared once per
	// connection.
	var q string
	var args []any
	if versionID != "" {
		if _, err := uuid.Parse(versionID); err != nil {
			return nil, userf(ErrNotFound, "version %q", versionID)
		}
		q, args = headByVersion, []any{bucketID, versionID, key}
		if s.d == sqldb.SQLite {
			q = headByVersionSQLite
		}
	} else {
		q, args = headByKey, []any{bucketID, key}
		switch s.d {
		case sqldb.SQLite:
			q = headByKeySQLite
		case sqldb.MySQL:
			q = headByKeyMySQL
		}
	}
	if s.d == sqldb.SQLite {
		// On SQLite (in process, no network) the lookup is not tied to the
		// request's cancellation: a cancellable context costs two watcher
		// goroutines per query (database/sql's and the driver's interrupt
		// watcher) and their wake-ups, while a point read returns in
		// microseconds and the busy timeout bounds a wait for a lock.
		ctx = context.WithoutCancel(ctx)
	}
	var r headRow
	var err error
	if s.tx != nil {
		err = r.scan(s.tx.QueryRowContext(ctx, s.tx.Rebind(q), args...), bucketID, key)
	} else {
		var st *sqlx.Stmt
		if st, err = s.stmts.get(ctx, s.db, q); err == nil {
			err = r.scan(st.QueryRowContext(ctx, args...), bucketID, key)
		}
	}
	if err != nil {
		if sqldb.IsNoRows(err) {
			return nil, userf(ErrNotFound, "object %s/%s", bucketID, key)
		}
		return nil, fmt.Errorf("files: get object: %w", err)
	}
	o := r.object()
	if versionID == "" && o.DeleteMarker() {
		return nil, userf(ErrNotFound, "%s/%s is deleted", bucketID, key)
	}
	return o, nil
}

// getObject reads the head (versionID "") or one version of key.
func (s *Store) getObject(ctx context.Context, q sqldb.Querier, bucketID, key, versionID string) (*Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	var r objectRow
	var err error
	if versionID == "" {
		err = q.GetContext(ctx, &r, q.Rebind(objectSelect+"WHERE o.bucket_id = ? AND o.object_key = ? AND o.is_head = ?"), bucketID, key, true)
	} else {
		if _, perr := uuid.Parse(versionID); perr != nil {
			return nil, userf(ErrNotFound, "version %q", versionID)
		}
		err = q.GetContext(ctx, &r, q.Rebind(objectSelect+"WHERE o.bucket_id = ? AND o.object_key = ? AND o.version_id = ?"), bucketID, key, versionID)
	}
	if err != nil {
		if sqldb.IsNoRows(err) {
			return nil, userf(ErrNotFound, "object %s/%s", bucketID, key)
		}
		return nil, fmt.Errorf("files: get object: %w", err)
	}
	return r.object(), nil
}

// newVersion inserts a version of key in a locked bucket (call reserve
// first), making it the head. fileID "" writes a delete marker.
func (s *Store) newVersion(ctx context.Context, tx *sqlx.Tx, bucketID, key, fileID, mimetype string, now time.Time) (*Object, error) {
	if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE files_objects SET is_head = ?, updated = ? WHERE bucket_id = ? AND object_key = ? AND is_head = ?"),
		false, s.ts(now), bucketID, key, true); err != nil {
		return nil, fmt.Errorf("files: flip head: %w", err)
	}
	vid := uuid.NewString()
	var fid any
	if fileID != "" {
		fid = fileID
		// Lock the instance and make sure GC is not removing it: GC takes
		// the same lock before checking that nothing references it.
		var status string
		if err := tx.GetContext(ctx, &status, tx.Rebind("SELECT status FROM files_instances WHERE id = ?"+sqldb.ForUpdate(s.d)), fileID); err != nil {
			if sqldb.IsNoRows(err) {
				return nil, fmt.Errorf("%w: file %s", ErrNotFound, fileID)
			}
			return nil, fmt.Errorf("files: lock file: %w", err)
		}
		if status != statusReady {
			return nil, fmt.Errorf("%w: file %s is being deleted", ErrNotFound, fileID)
		}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO files_objects (version_id, bucket_id, object_key, file_id, mimetype, is_head, created, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), vid, bucketID, key, fid, mimetype, true, s.ts(now), s.ts(now)); err != nil {
		if sqldb.IsUniqueViolation(err) {
			return nil, userCause(ErrConflict, err, "concurrent write to %s", key)
		}
		return nil, fmt.Errorf("files: insert version: %w", err)
	}
	return s.getObject(ctx, tx, bucketID, key, vid)
}

// Delete writes a delete marker as the head of key (the earlier versions
// stay and can be restored). It returns the marker.
func (s *Store) Delete(ctx context.Context, bucketID, key string) (*Object, error) {
	key = NormalizeKey(key)
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	var out *Object
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.reserve(ctx, tx, bucketID, 0, 0); err != nil {
			return err
		}
		head, err := s.getObject(ctx, tx, bucketID, key, "")
		if err != nil {
			return err
		}
		if head.DeleteMarker() {
			return userf(ErrNotFound, "object %s/%s is already deleted", bucketID, key)
		}
		out, err = s.newVersion(ctx, tx, bucketID, key, "", "", s.now())
		return err
	})
	return out, err
}

// DeleteVersion removes one version of key for good (its bytes go when no
// other version references its file and GC runs). If it was the head, the
// newest remaining version becomes head. The bucket's size shrinks by the
// version's file size. Of concurrent deletions of the same version exactly
// one succeeds (and subtracts the size); the others get ErrNotFound.
func (s *Store) DeleteVersion(ctx context.Context, bucketID, key, versionID string) error {
	key = NormalizeKey(key)
	if versionID == "" {
		return userf(ErrInvalid, "empty version id")
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		b, err := s.lockBucket(ctx, tx, bucketID)
		if err != nil {
			return err
		}
		o, err := s.getObject(ctx, tx, bucketID, key, versionID)
		if err != nil {
			return err
		}
		// The row count of the DELETE, not the read above, decides who
		// removed the version: only that transaction subtracts its size.
		res, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM files_objects WHERE version_id = ? AND bucket_id = ?"), versionID, bucketID)
		if err != nil {
			return fmt.Errorf("files: delete version: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("files: delete version: %w", err)
		} else if n != 1 {
			return userf(ErrNotFound, "version %s of %s", versionID, key)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM files_tags WHERE bucket_id = ? AND version_id = ?"), bucketID, versionID); err != nil {
			return err
		}
		if err := s.addSize(ctx, tx, b, -o.Size(), 0); err != nil {
			return err
		}
		if o.IsHead {
			var seq sql.NullInt64
			if err := tx.GetContext(ctx, &seq, tx.Rebind("SELECT MAX(id) FROM files_objects WHERE bucket_id = ? AND object_key = ?"), bucketID, key); err != nil {
				return fmt.Errorf("files: find new head: %w", err)
			}
			if seq.Valid {
				if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE files_objects SET is_head = ? WHERE id = ?"), true, seq.Int64); err != nil {
					return fmt.Errorf("files: promote head: %w", err)
				}
			}
		}
		return nil
	})
}

// Restore makes a copy of an old version the new head of its key (a
// metadata-only copy sharing the file). The bucket's quota applies.
func (s *Store) Restore(ctx context.Context, bucketID, key, versionID string) (*Object, error) {
	key = NormalizeKey(key)
	var out *Object
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		b, err := s.lockBucket(ctx, tx, bucketID)
		if err != nil {
			return err
		}
		o, err := s.getObject(ctx, tx, bucketID, key, versionID)
		if err != nil {
			return err
		}
		if o.DeleteMarker() {
			return userf(ErrConflict, "cannot restore a delete marker")
		}
		if err := s.addSize(ctx, tx, b, o.Size(), o.Size()); err != nil {
			return err
		}
		if out, err = s.newVersion(ctx, tx, bucketID, key, o.File.ID, o.Mimetype, s.now()); err != nil {
			return err
		}
		tags, err := s.tags(ctx, tx, bucketID, o.VersionID)
		if err != nil {
			return err
		}
		out.Tags = tags
		return s.setTags(ctx, tx, bucketID, out.VersionID, tags, false)
	})
	return out, err
}

// Copy copies the head of srcKey in srcBucket to dstKey in dstBucket without
// copying bytes (both versions share the file instance). The destination's
// quota, max file size and lock apply.
func (s *Store) Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string) (*Object, error) {
	srcKey, dstKey = NormalizeKey(srcKey), NormalizeKey(dstKey)
	if err := ValidateKey(dstKey); err != nil {
		return nil, err
	}
	var out *Object
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		dst, err := s.lockBucket(ctx, tx, dstBucket)
		if err != nil {
			return err
		}
		src, err := s.getObject(ctx, tx, srcBucket, srcKey, "")
		if err != nil {
			return err
		}
		if src.DeleteMarker() {
			return userf(ErrNotFound, "object %s/%s is deleted", srcBucket, srcKey)
		}
		if err := s.addSize(ctx, tx, dst, src.Size(), src.Size()); err != nil {
			return err
		}
		if out, err = s.newVersion(ctx, tx, dstBucket, dstKey, src.File.ID, src.Mimetype, s.now()); err != nil {
			return err
		}
		tags, err := s.tags(ctx, tx, srcBucket, src.VersionID)
		if err != nil {
			return err
		}
		out.Tags = tags
		return s.setTags(ctx, tx, dstBucket, out.VersionID, tags, false)
	})
	return out, err
}
