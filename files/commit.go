package files

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// commitFile is the short metadata transaction that makes written bytes
// visible: it reserves the file's size in the bucket (quota, max file size,
// lock and soft delete checked in one UPDATE), inserts the file instance and
// a new head version of key, and writes its tags. Nothing in it streams.
func (s *Store) commitFile(ctx context.Context, bucketID, key string, f *FileInstance, mimetype string, tags map[string]string) (*Object, error) {
	var out *Object
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.reserve(ctx, tx, bucketID, f.Size, f.Size); err != nil {
			return err
		}
		now := s.now()
		f.Created, f.Updated = now, now
		if err := s.insertInstance(ctx, tx, f); err != nil {
			return err
		}
		o, err := s.newVersion(ctx, tx, bucketID, key, f.ID, mimetype, now)
		if err != nil {
			return err
		}
		if err := s.setTags(ctx, tx, bucketID, o.VersionID, tags, false); err != nil {
			return err
		}
		o.Tags = tags
		out = o
		return nil
	})
	return out, err
}
