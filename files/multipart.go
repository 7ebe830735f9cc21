package files

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/storage"
)

// Multipart limits.
const (
	// MaxParts is the most parts an upload may have.
	MaxParts = storage.MaxParts
	// DefaultMinPartSize is the smallest part size accepted by default (and
	// always on S3 locations, which require it).
	DefaultMinPartSize = 5 << 20
	// MaxPartSize is the largest part size accepted.
	MaxPartSize = 5 << 30
)

// Upload statuses.
const (
	uploadPending    = "pending"
	uploadCompleting = "completing"
	uploadAborted    = "aborted"
)

// Upload is a multipart upload in progress.
type Upload struct {
	ID           string    `json:"id"`
	BucketID     string    `json:"bucket_id"`
	Key          string    `json:"key"`
	Size         int64     `json:"size"`
	PartSize     int64     `json:"part_size"`
	Mimetype     string    `json:"mimetype,omitempty"`
	Location     string    `json:"location"`
	StorageClass string    `json:"storage_class"`
	StorageKey   string    `json:"-"`
	NativeID     string    `json:"-"`
	Status       string    `json:"status"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// PartCount returns the number of parts the upload is made of.
func (u *Upload) PartCount() int { return int((u.Size + u.PartSize - 1) / u.PartSize) }

// PartSizeOf returns the size part n (1-based) must have.
func (u *Upload) PartSizeOf(n int) int64 {
	if n == u.PartCount() {
		return u.Size - int64(n-1)*u.PartSize
	}
	return u.PartSize
}

// Part is one uploaded part of a multipart upload.
type Part struct {
	Number   int       `json:"part_number" db:"part_number"`
	Size     int64     `json:"size" db:"size"`
	Checksum string    `json:"checksum" db:"checksum"`
	ETag     string    `json:"-" db:"etag"`
	Created  time.Time `json:"created" db:"created"`
}

const uploadCols = "id, bucket_id, object_key, size, part_size, mimetype, location, storage_class, storage_key, native_id, status, created, updated"

type uploadRow struct {
	ID           string    `db:"id"`
	BucketID     string    `db:"bucket_id"`
	Key          string    `db:"object_key"`
	Size         int64     `db:"size"`
	PartSize     int64     `db:"part_size"`
	Mimetype     string    `db:"mimetype"`
	Location     string    `db:"location"`
	StorageClass string    `db:"storage_class"`
	StorageKey   string    `db:"storage_key"`
	NativeID     string    `db:"native_id"`
	Status       string    `db:"status"`
	Created      time.Time `db:"created"`
	Updated      time.Time `db:"updated"`
}

func (r *uploadRow) upload() *Upload {
	u := Upload(*r)
	u.Created, u.Updated = u.Created.UTC(), u.Updated.UTC()
	return &u
}

// UploadOptions describes a new multipart upload.
type UploadOptions struct {
	Mimetype     string
	StorageClass string
}

// InitUpload starts a multipart upload of size bytes to key, in parts of
// partSize bytes (the last one smaller). The size is checked against the
// bucket's max file size and quota left now, and again when completing.
func (s *Store) InitUpload(ctx context.Context, bucketID, key string, size, partSize int64, o UploadOptions) (*Upload, error) {
	key = NormalizeKey(key)
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, userf(ErrInvalid, "multipart size %d must be positive", size)
	}
	if partSize < s.cfg.minPartSize || partSize > MaxPartSize {
		return nil, userf(ErrInvalid, "part size %d outside %d..%d", partSize, s.cfg.minPartSize, MaxPartSize)
	}
	if n := (size + partSize - 1) / partSize; n > MaxParts {
		return nil, userf(ErrInvalid, "%d parts, more than %d", n, MaxParts)
	}
	b, err := s.writableBucket(ctx, s.q(), bucketID)
	if err != nil {
		return nil, err
	}
	limit, byQuota := b.SizeLimit()
	if err := checkLimit(size, limit, byQuota, b); err != nil {
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
	if loc.Scheme() == "s3" && partSize < DefaultMinPartSize && size > partSize {
		return nil, userf(ErrInvalid, "S3 needs parts of at least %d bytes", DefaultMinPartSize)
	}
	mimetype := o.Mimetype
	if mimetype == "" {
		mimetype = MimetypeOf(key)
	}
	id := uuid.NewString()
	u := &Upload{ID: id, BucketID: bucketID, Key: key, Size: size, PartSize: partSize, Mimetype: mimetype,
		Location: loc.Name(), StorageClass: class, StorageKey: s.storageKeyFor(id), Status: uploadPending}
	m, err := loc.NewMultipart(ctx, u.StorageKey)
	if err != nil {
		return nil, fmt.Errorf("files: start multipart upload: %w", err)
	}
	u.NativeID = m.UploadID()
	now := s.now()
	u.Created, u.Updated = now, now
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO files_uploads (`+uploadCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			u.ID, u.BucketID, u.Key, u.Size, u.PartSize, u.Mimetype, u.Location, u.StorageClass, u.StorageKey, u.NativeID,
			u.Status, s.ts(now), s.ts(now))
		return err
	})
	if err != nil {
		_ = m.Abort(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("files: record multipart upload: %w", err)
	}
	return u, nil
}

// Upload returns a multipart upload of key in bucketID.
func (s *Store) Upload(ctx context.Context, bucketID, key, uploadID string) (*Upload, error) {
	key = NormalizeKey(key)
	return s.getUpload(ctx, s.q(), bucketID, key, uploadID, false)
}

func (s *Store) getUpload(ctx context.Context, q sqldb.Querier, bucketID, key, uploadID string, forUpdate bool) (*Upload, error) {
	if _, err := uuid.Parse(uploadID); err != nil {
		return nil, userf(ErrNotFound, "upload %q", uploadID)
	}
	var r uploadRow
	query := "SELECT " + uploadCols + " FROM files_uploads WHERE id = ? AND bucket_id = ? AND object_key = ?"
	if forUpdate {
		query += sqldb.ForUpdate(s.d)
	}
	if err := q.GetContext(ctx, &r, q.Rebind(query), uploadID, bucketID, key); err != nil {
		if sqldb.IsNoRows(err) {
			return nil, userf(ErrNotFound, "upload %s", uploadID)
		}
		return nil, fmt.Errorf("files: get upload: %w", err)
	}
	if r.Status == uploadAborted {
		return nil, userf(ErrNotFound, "upload %s was aborted", uploadID)
	}
	return r.upload(), nil
}

// UploadListOptions selects a page of a bucket's multipart uploads.
type UploadListOptions struct {
	// Prefix keeps only uploads whose key starts with it.
	Prefix string
	// Cursor continues from a previous page's Next.
	Cursor string
	// Limit is the page size (default and maximum MaxListLimit).
	Limit int
}

// UploadPage is one page of multipart uploads, in key order (then by
// upload id).
type UploadPage struct {
	Uploads []*Upload `json:"uploads"`
	// Next is the cursor of the following page ("" on the last page).
	Next string `json:"next,omitempty"`
}

// ListUploads returns a page of the bucket's multipart uploads in
// progress, keyset-paginated like List (cheap at any depth).
func (s *Store) ListUploads(ctx context.Context, bucketID string, o UploadListOptions) (*UploadPage, error) {
	if _, err := s.getBucket(ctx, s.q(), bucketID, false); err != nil {
		return nil, err
	}
	limit := o.Limit
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	where := []string{"bucket_id = ?", "status <> ?"}
	args := []any{bucketID, uploadAborted}
	if p := NormalizeKey(o.Prefix); p != "" {
		where = append(where, "object_key >= ?")
		args = append(args, p)
		if end := prefixEnd(p); end != "" {
			where = append(where, "object_key < ?")
			args = append(args, end)
		}
	}
	if o.Cursor != "" {
		key, id, err := decodeUploadCursor(o.Cursor)
		if err != nil {
			return nil, err
		}
		where = append(where, "(object_key > ? OR (object_key = ? AND id > ?))")
		args = append(args, key, key, id)
	}
	var rows []uploadRow
	q := "SELECT " + uploadCols + " FROM files_uploads WHERE " + strings.Join(where, " AND ") +
		" ORDER BY object_key, id LIMIT " + strconv.Itoa(limit+1)
	if err := s.q().SelectContext(ctx, &rows, s.q().Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("files: list uploads: %w", err)
	}
	page := &UploadPage{Uploads: make([]*Upload, 0, min(len(rows), limit))}
	for i := range rows {
		if i == limit {
			last := page.Uploads[limit-1]
			page.Next = base64.RawURLEncoding.EncodeToString([]byte(last.ID + ":" + last.Key))
			break
		}
		page.Uploads = append(page.Uploads, rows[i].upload())
	}
	return page, nil
}

func decodeUploadCursor(c string) (key, id string, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", "", userf(ErrInvalid, "bad cursor")
	}
	id, key, ok := strings.Cut(string(raw), ":")
	if _, perr := uuid.Parse(id); !ok || perr != nil {
		return "", "", userf(ErrInvalid, "bad cursor")
	}
	return key, id, nil
}

// UploadPart streams part n of an upload. size is the announced length (0
// = unknown); it must equal the part's expected size. contentMD5 (base64,
// optional) is verified. Parts can be uploaded in any order, concurrently;
// uploading a part again replaces it.
func (s *Store) UploadPart(ctx context.Context, bucketID, key, uploadID string, n int, r io.Reader, size int64, contentMD5 string) (*Part, error) {
	key = NormalizeKey(key)
	u, err := s.getUpload(ctx, s.q(), bucketID, key, uploadID, false)
	if err != nil {
		return nil, err
	}
	if u.Status != uploadPending {
		return nil, userf(ErrConflict, "upload %s is %s", uploadID, u.Status)
	}
	if n < 1 || n > u.PartCount() {
		return nil, userf(ErrInvalid, "part number %d outside 1..%d", n, u.PartCount())
	}
	want := u.PartSizeOf(n)
	if size > 0 && size != want {
		return nil, userf(ErrInvalid, "part %d must have %d bytes, not %d", n, want, size)
	}
	var wantMD5 []byte
	if contentMD5 != "" {
		if wantMD5, err = storage.ParseContentMD5(contentMD5); err != nil {
			return nil, userCause(ErrInvalid, err, "bad Content-MD5")
		}
	}
	loc, err := s.location(u.Location)
	if err != nil {
		return nil, err
	}
	m, err := loc.ResumeMultipart(u.StorageKey, u.NativeID)
	if err != nil {
		return nil, err
	}
	// Forget the part number first: a failed or mismatching re-upload must
	// not leave an earlier record describing bytes that were replaced.
	if err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM files_parts WHERE upload_id = ? AND part_number = ?"), uploadID, n)
		return err
	}); err != nil {
		return nil, fmt.Errorf("files: reset part: %w", err)
	}
	sp, err := m.UploadPart(ctx, n, r, want)
	if err != nil {
		return nil, fmt.Errorf("files: upload part %d: %w", n, err)
	}
	if wantMD5 != nil {
		if sp.Checksums.MD5 != "md5:"+hex.EncodeToString(wantMD5) {
			return nil, userf(ErrChecksumMismatch, "part %d does not match its Content-MD5", n)
		}
	}
	p := &Part{Number: n, Size: sp.Size, Checksum: sp.Checksums.MD5, ETag: sp.ETag, Created: s.now()}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var status string
		if err := tx.GetContext(ctx, &status, tx.Rebind("SELECT status FROM files_uploads WHERE id = ?"+sqldb.ForUpdate(s.d)), uploadID); err != nil {
			if sqldb.IsNoRows(err) {
				return userf(ErrNotFound, "upload %s", uploadID)
			}
			return err
		}
		if status != uploadPending {
			return userf(ErrConflict, "upload %s is %s", uploadID, status)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM files_parts WHERE upload_id = ? AND part_number = ?"), uploadID, n); err != nil {
			return err
		}
		// Activity keeps the upload from being collected as abandoned.
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE files_uploads SET updated = ? WHERE id = ?"), s.ts(p.Created), uploadID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO files_parts (upload_id, part_number, size, checksum, etag, created) VALUES (?, ?, ?, ?, ?, ?)"),
			uploadID, n, p.Size, p.Checksum, p.ETag, s.ts(p.Created))
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ListParts returns the parts uploaded so far, by part number.
func (s *Store) ListParts(ctx context.Context, bucketID, key, uploadID string) ([]Part, error) {
	key = NormalizeKey(key)
	if _, err := s.getUpload(ctx, s.q(), bucketID, key, uploadID, false); err != nil {
		return nil, err
	}
	return s.parts(ctx, s.q(), uploadID)
}

func (s *Store) parts(ctx context.Context, q sqldb.Querier, uploadID string) ([]Part, error) {
	var ps []Part
	if err := q.SelectContext(ctx, &ps, q.Rebind("SELECT part_number, size, checksum, etag, created FROM files_parts WHERE upload_id = ? ORDER BY part_number"), uploadID); err != nil {
		return nil, fmt.Errorf("files: list parts: %w", err)
	}
	for i := range ps {
		ps[i].Created = ps[i].Created.UTC()
	}
	return ps, nil
}

// CompleteUpload checks that every part is there with its expected size,
// has storage assemble them (streaming, constant memory; S3 natively) and
// commits the file as the new head of key in one short transaction (quota
// and max file size checked again). The upload is gone afterwards.
func (s *Store) CompleteUpload(ctx context.Context, bucketID, key, uploadID string) (*Object, error) {
	key = NormalizeKey(key)
	var u *Upload
	var parts []Part
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if u, err = s.getUpload(ctx, tx, bucketID, key, uploadID, true); err != nil {
			return err
		}
		if u.Status != uploadPending {
			return userf(ErrConflict, "upload %s is %s", uploadID, u.Status)
		}
		if parts, err = s.parts(ctx, tx, uploadID); err != nil {
			return err
		}
		if err := checkParts(u, parts); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind("UPDATE files_uploads SET status = ?, updated = ? WHERE id = ?"),
			uploadCompleting, s.ts(s.now()), uploadID)
		return err
	})
	if err != nil {
		return nil, err
	}
	loc, err := s.location(u.Location)
	if err != nil {
		return nil, err
	}
	m, err := loc.ResumeMultipart(u.StorageKey, u.NativeID)
	if err != nil {
		return nil, err
	}
	sps := make([]storage.Part, len(parts))
	for i, p := range parts {
		sps[i] = storage.Part{Number: p.Number, Size: p.Size, ETag: p.ETag}
	}
	res, err := m.Complete(ctx, sps)
	if err != nil {
		// Let the client fix the parts and try again.
		s.setUploadStatus(uploadID, uploadPending)
		return nil, fmt.Errorf("files: assemble upload %s: %w", uploadID, err)
	}
	if res.Size != u.Size {
		s.discard(loc, u.StorageKey)
		s.setUploadStatus(uploadID, uploadAborted)
		return nil, userf(ErrSizeMismatch, "assembled %d bytes, announced %d", res.Size, u.Size)
	}
	f := &FileInstance{ID: uuid.NewString(), Location: loc.Name(), StorageClass: u.StorageClass, StorageKey: u.StorageKey,
		Size: res.Size, MD5: res.Checksums.MD5, SHA256: res.Checksums.SHA256}
	var out *Object
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		o, err := s.WithTx(tx).commitFile(ctx, bucketID, key, f, u.Mimetype, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM files_uploads WHERE id = ?"), uploadID); err != nil {
			return err
		}
		out = o
		return nil
	})
	if err != nil {
		s.discard(loc, u.StorageKey)
		s.setUploadStatus(uploadID, uploadAborted)
		return nil, err
	}
	return out, nil
}

func checkParts(u *Upload, parts []Part) error {
	n := u.PartCount()
	if len(parts) != n {
		have := map[int]bool{}
		for _, p := range parts {
			have[p.Number] = true
		}
		for i := 1; i <= n; i++ {
			if !have[i] {
				return userf(ErrInvalid, "part %d of %d is missing", i, n)
			}
		}
		return userf(ErrInvalid, "%d parts uploaded, %d expected", len(parts), n)
	}
	for i, p := range parts {
		if p.Number != i+1 || p.Size != u.PartSizeOf(p.Number) {
			return userf(ErrInvalid, "part %d has %d bytes, %d expected", p.Number, p.Size, u.PartSizeOf(p.Number))
		}
	}
	return nil
}

func (s *Store) setUploadStatus(uploadID, status string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE files_uploads SET status = ?, updated = ? WHERE id = ?"), status, s.ts(s.now()), uploadID)
		return err
	})
	if err != nil {
		s.cfg.log.Warn("files: could not update upload status; GC will collect it", "upload", uploadID, "err", err)
	}
}

// AbortUpload cancels a multipart upload and removes its parts.
func (s *Store) AbortUpload(ctx context.Context, bucketID, key, uploadID string) error {
	key = NormalizeKey(key)
	var u *Upload
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if u, err = s.getUpload(ctx, tx, bucketID, key, uploadID, true); err != nil {
			return err
		}
		if u.Status != uploadPending {
			return userf(ErrConflict, "upload %s is %s", uploadID, u.Status)
		}
		_, err = tx.ExecContext(ctx, tx.Rebind("UPDATE files_uploads SET status = ?, updated = ? WHERE id = ?"), uploadAborted, s.ts(s.now()), uploadID)
		return err
	})
	if err != nil {
		return err
	}
	return s.removeUpload(ctx, u)
}

// removeUpload deletes an aborted or abandoned upload's bytes, then its rows.
func (s *Store) removeUpload(ctx context.Context, u *Upload) error {
	loc, err := s.location(u.Location)
	if err != nil {
		return err
	}
	if m, err := loc.ResumeMultipart(u.StorageKey, u.NativeID); err == nil {
		if err := m.Abort(ctx); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("files: abort upload %s: %w", u.ID, err)
		}
	}
	if err := loc.Delete(ctx, u.StorageKey); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("files: delete upload %s bytes: %w", u.ID, err)
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM files_uploads WHERE id = ?"), u.ID)
		return err
	})
}
