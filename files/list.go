package files

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// MaxListLimit is the largest page List returns.
const MaxListLimit = 1000

// ListOptions selects a page of a bucket's objects.
type ListOptions struct {
	// Versions lists every version (delete markers included, newest first
	// within a key) instead of the visible heads.
	Versions bool
	// Prefix keeps only keys starting with it.
	Prefix string
	// Cursor continues from a previous page's Next.
	Cursor string
	// Limit is the page size (default and maximum MaxListLimit).
	Limit int
}

// ObjectPage is one page of a listing, in key order.
type ObjectPage struct {
	Objects []*Object `json:"contents"`
	// Next is the cursor of the following page ("" on the last page).
	Next string `json:"next,omitempty"`
}

// List returns a page of a bucket's objects: the heads that are not delete
// markers, or with Versions every version. Pages are keyset-paginated, so
// listing stays cheap however deep the cursor is.
func (s *Store) List(ctx context.Context, bucketID string, o ListOptions) (*ObjectPage, error) {
	b, err := s.getBucket(ctx, s.q(), bucketID, false)
	if err != nil {
		return nil, err
	}
	if b.Deleted {
		return nil, userf(ErrNotFound, "bucket %s is deleted", bucketID)
	}
	o.Prefix = NormalizeKey(o.Prefix)
	limit := o.Limit
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	where := []string{"o.bucket_id = ?"}
	args := []any{bucketID}
	if !o.Versions {
		where = append(where, "o.is_head = ?", "o.file_id IS NOT NULL")
		args = append(args, true)
	}
	if o.Prefix != "" {
		where = append(where, "o.object_key >= ?")
		args = append(args, o.Prefix)
		if end := prefixEnd(o.Prefix); end != "" {
			where = append(where, "o.object_key < ?")
			args = append(args, end)
		}
	}
	if o.Cursor != "" {
		key, seq, err := decodeCursor(o.Cursor)
		if err != nil {
			return nil, err
		}
		if o.Versions {
			where = append(where, "(o.object_key > ? OR (o.object_key = ? AND o.id < ?))")
			args = append(args, key, key, seq)
		} else {
			where = append(where, "o.object_key > ?")
			args = append(args, key)
		}
	}
	q := objectSelect + "WHERE " + strings.Join(where, " AND ") + " ORDER BY o.object_key ASC, o.id DESC LIMIT " + strconv.Itoa(limit+1)
	var rows []objectRow
	if err := s.q().SelectContext(ctx, &rows, s.q().Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("files: list: %w", err)
	}
	page := &ObjectPage{Objects: make([]*Object, 0, min(len(rows), limit))}
	for i := range rows {
		if i == limit {
			last := page.Objects[limit-1]
			page.Next = encodeCursor(last.Key, last.seq)
			break
		}
		page.Objects = append(page.Objects, rows[i].object())
	}
	return page, nil
}

func encodeCursor(key string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(seq, 10) + ":" + key))
}

func decodeCursor(c string) (string, int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", 0, userf(ErrInvalid, "bad cursor")
	}
	n, key, ok := strings.Cut(string(raw), ":")
	seq, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil {
		return "", 0, userf(ErrInvalid, "bad cursor")
	}
	return key, seq, nil
}
