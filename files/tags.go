package files

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// Tag limits.
const (
	MaxTagKeyLength   = 255
	MaxTagValueLength = 4096
)

func validateTags(tags map[string]string) error {
	for k, v := range tags {
		if k == "" || len(k) > MaxTagKeyLength || !utf8.ValidString(k) || len(v) > MaxTagValueLength || !utf8.ValidString(v) {
			return userf(ErrInvalid, "tag %q: keys 1-%d bytes, values up to %d bytes, UTF-8", k, MaxTagKeyLength, MaxTagValueLength)
		}
	}
	return nil
}

// tags reads the tags of a bucket (versionID "") or of an object version.
func (s *Store) tags(ctx context.Context, q sqldb.Querier, bucketID, versionID string) (map[string]string, error) {
	var rows []struct {
		K string `db:"tag_key"`
		V string `db:"value"`
	}
	if err := q.SelectContext(ctx, &rows, q.Rebind("SELECT tag_key, value FROM files_tags WHERE bucket_id = ? AND version_id = ?"),
		bucketID, versionID); err != nil {
		return nil, fmt.Errorf("files: read tags: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[r.K] = r.V
	}
	return m, nil
}

// setTags writes tags; replace first removes the existing ones.
func (s *Store) setTags(ctx context.Context, tx *sqlx.Tx, bucketID, versionID string, tags map[string]string, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM files_tags WHERE bucket_id = ? AND version_id = ?"), bucketID, versionID); err != nil {
			return fmt.Errorf("files: replace tags: %w", err)
		}
	}
	for k, v := range tags {
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM files_tags WHERE bucket_id = ? AND version_id = ? AND tag_key = ?"), bucketID, versionID, k); err != nil {
			return fmt.Errorf("files: set tag: %w", err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO files_tags (bucket_id, version_id, tag_key, value) VALUES (?, ?, ?, ?)"),
			bucketID, versionID, k, v); err != nil {
			return fmt.Errorf("files: set tag: %w", err)
		}
	}
	return nil
}

// SetBucketTags replaces a bucket's tags.
func (s *Store) SetBucketTags(ctx context.Context, bucketID string, tags map[string]string) error {
	if err := validateTags(tags); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := s.getBucket(ctx, tx, bucketID, true); err != nil {
			return err
		}
		return s.setTags(ctx, tx, bucketID, "", tags, true)
	})
}

// SetObjectTags replaces the tags of one object version.
func (s *Store) SetObjectTags(ctx context.Context, bucketID, key, versionID string, tags map[string]string) error {
	key = NormalizeKey(key)
	if err := validateTags(tags); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		o, err := s.getObject(ctx, tx, bucketID, key, versionID)
		if err != nil {
			return err
		}
		return s.setTags(ctx, tx, bucketID, o.VersionID, tags, true)
	})
}
