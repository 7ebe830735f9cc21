package files

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// UndeleteBucket restores a bucket soft-deleted by DeleteBucket, with its
// objects as they were. Undeleting a bucket that is not deleted does
// nothing; a missing (or purged) one gives ErrNotFound.
func (s *Store) UndeleteBucket(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		b, err := s.getBucket(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if !b.Deleted {
			return nil
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE files_buckets SET deleted = ?, updated = ? WHERE id = ?"),
			false, s.ts(s.now()), id); err != nil {
			return fmt.Errorf("files: undelete bucket: %w", err)
		}
		return nil
	})
}
