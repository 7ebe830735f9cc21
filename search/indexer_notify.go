package search

import "context"

// AfterIndexFunc is told, after each bulk request the engine confirmed,
// which records (ids) of which index (name without prefix) it now shows at
// their current revision (or no longer shows, for deletions). Page caches
// purge search pages here: a search cached before indexing finished would
// otherwise show the old result for its whole TTL.
type AfterIndexFunc func(ctx context.Context, index string, ids []string)

// WithAfterIndex sets a function called after each confirmed bulk request
// (see AfterIndexFunc), from the consumer's goroutine: keep it short.
func WithAfterIndex(fn AfterIndexFunc) IndexerOption {
	return indexerOption(func(c *indexerConfig) { c.afterIndex = fn })
}

// notifyIndexed calls the AfterIndexFunc with the ids of ps that succeeded.
func (ix *Indexer) notifyIndexed(ctx context.Context, index string, ps []*planned, results map[*planned]error) {
	if ix.afterIndex == nil {
		return
	}
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		if results[p] == nil {
			ids = append(ids, p.op.ID)
		}
	}
	if len(ids) > 0 {
		ix.afterIndex(ctx, index, ids)
	}
}
