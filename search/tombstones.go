package search

import (
	"context"
	"time"
)

// TombstonePurger is implemented by drivers that keep a tombstone per
// deleted document to refuse stale writes (the bleve driver; OpenSearch
// uses external versions and forgets deletes by itself). PurgeTombstones
// deletes the tombstones written before before from the concrete indices
// behind index (an index or alias, full name) and returns how many it
// deleted and how many are left. The caller guarantees that no write
// prepared before before can still arrive: the outbox [Indexer] calls it
// once its queue has drained past them.
type TombstonePurger interface {
	PurgeTombstones(ctx context.Context, index string, before time.Time) (purged, left int64, err error)
}
