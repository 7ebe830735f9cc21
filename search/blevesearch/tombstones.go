package blevesearch

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/repokit/repokit/search"
)

// TombstoneAtField holds the time a tombstone was written (Unix
// milliseconds of this process's clock), indexed and in doc values: the
// purge selects tombstones by it, and a write reads it (with the revision)
// to know whether the document it replaces is a tombstone.
const TombstoneAtField = "_deleted_at"

// addTombstoneTime maps TombstoneAtField in the root document mapping.
func addTombstoneTime(root *mapping.DocumentMapping) {
	at := mapping.NewNumericFieldMapping()
	at.Store = false
	at.Index = true
	at.IncludeInAll = false
	at.DocValues = true
	root.AddFieldMappingsAt(TombstoneAtField, at)
}

// shard is one bleve index of a concrete index: a concrete index is one
// shard, or N (URL option shards=N) with documents routed by a hash of
// their id.
type shard struct {
	idx bleve.Index
	// dated: the index mapping has TombstoneAtField (indices created
	// before it existed have not: their tombstones are neither counted nor
	// purged, and searches always exclude them)
	dated bool
	// tombs counts the tombstones of a dated shard: raised before a batch
	// adding tombstones is applied, lowered after one removing them is, so
	// that a search seeing 0 can skip the tombstone exclusion.
	tombs atomic.Int64
	// gen is bumped (after tombs is raised) before every batch adding
	// tombstones: a search that skipped the exclusion checks it did not
	// change while it ran.
	gen atomic.Uint64
}

func newShard(idx bleve.Index) (*shard, error) {
	s := &shard{idx: idx}
	im, ok := idx.Mapping().(*mapping.IndexMappingImpl)
	if !ok {
		return s, nil
	}
	if fm := im.FieldMappingForPath(TombstoneAtField); fm.Type != "number" || !fm.DocValues {
		return s, nil
	}
	s.dated = true
	q := bleve.NewBoolFieldQuery(true)
	q.SetField(TombstoneField)
	res, err := idx.Search(bleve.NewSearchRequestOptions(q, 0, 0, false))
	if err != nil {
		return nil, fmt.Errorf("blevesearch: count tombstones: %w", err)
	}
	s.tombs.Store(int64(res.Total))
	return s, nil
}

// shardOf routes a document id to one of n shards.
func shardOf(id string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(n))
}

func shardPath(dir string, i int) string { return filepath.Join(dir, "s"+strconv.Itoa(i)) }

// openShards opens the n shards of the concrete index in dir (n <= 1: dir
// is the bleve index itself).
func openShards(dir string, n int) ([]*shard, error) {
	return eachShard(dir, n, openBleve) // memory.go
}

// createShards creates the n shards of a new concrete index in dir.
func createShards(dir string, n int, im mapping.IndexMapping) ([]*shard, error) {
	if n > 1 {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	return eachShard(dir, n, func(path string) (bleve.Index, error) { return newBleve(path, im) }) // memory.go
}

// eachShard opens (or creates) with open the n shards of the concrete index
// in dir; on an error it closes those already open.
func eachShard(dir string, n int, open func(path string) (bleve.Index, error)) ([]*shard, error) {
	paths := []string{dir}
	if n > 1 {
		paths = make([]string, n)
		for i := range paths {
			paths[i] = shardPath(dir, i)
		}
	}
	out := make([]*shard, 0, len(paths))
	for _, path := range paths {
		idx, err := open(path)
		if err == nil {
			var s *shard
			if s, err = newShard(idx); err == nil {
				out = append(out, s)
				continue
			}
			idx.Close()
		}
		closeShards(out)
		return nil, err
	}
	return out, nil
}

func closeShards(ss []*shard) error {
	var first error
	for _, s := range ss {
		if err := s.idx.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// searchIndex is what searches of a concrete index go through: its only
// shard, or a bleve IndexAlias over its shards (searched in parallel, hits,
// totals and facets merged).
func searchIndex(name string, ss []*shard) bleve.Index {
	if len(ss) == 1 {
		return ss[0].idx
	}
	is := make([]bleve.Index, len(ss))
	for i, s := range ss {
		is[i] = s.idx
	}
	a := bleve.NewIndexAlias(is...)
	a.SetName(name)
	return a
}

// tombView is the tombstone state of the shards a search reads, taken
// before it runs: wrap says whether the query must exclude tombstones.
type tombView struct {
	shards []*shard
	gens   []uint64
	wrap   bool
}

func viewOf(bs []*bidx, force bool) tombView {
	v := tombView{wrap: force}
	for _, b := range bs {
		for _, s := range b.shards {
			v.shards = append(v.shards, s)
			v.gens = append(v.gens, s.gen.Load()) // before tombs: see shard.gen
			if !s.dated || s.tombs.Load() != 0 {
				v.wrap = true
			}
		}
	}
	return v
}

// exclude wraps q to exclude tombstones when the view says it must.
func (v tombView) exclude(q query.Query) query.Query {
	if v.wrap {
		return notTombstone(q)
	}
	return q
}

// raced reports whether a search that skipped the exclusion may have seen
// a tombstone (a batch adding some started meanwhile): run it again with
// the exclusion.
func (v tombView) raced() bool {
	if v.wrap {
		return false
	}
	for i, s := range v.shards {
		if s.gen.Load() != v.gens[i] {
			return true
		}
	}
	return false
}

// purgeBatch is the number of tombstones deleted per bleve batch (and per
// hold of the index's write lock).
const purgeBatch = 2000

// PurgeTombstones implements search.TombstonePurger: it deletes the
// tombstones written before before from every concrete index behind index
// (an index or alias), in batches under the index's write lock, and returns
// how many it deleted and how many (dated) tombstones are left. The caller
// guarantees that no write older than before can still arrive (see
// search.Indexer); a tombstone then protects nothing.
func (d *Driver) PurgeTombstones(ctx context.Context, index string, before time.Time) (purged, left int64, err error) {
	bs, err := d.targets(index)
	if err != nil {
		return 0, 0, err
	}
	cut := float64(before.UnixMilli())
	for _, b := range bs {
		b.mu.Lock()
		n := len(b.shards)
		b.mu.Unlock()
		for i := 0; i < n; i++ {
			for {
				k, rest, err := d.purgeSome(ctx, b, i, cut)
				purged += k
				if err != nil {
					return purged, 0, err
				}
				if k < purgeBatch {
					left += rest
					break
				}
			}
		}
	}
	return purged, left, nil
}

// purgeSome deletes up to purgeBatch tombstones older than cut from shard
// i of b; left is the number of tombstones the shard still holds.
func (d *Driver) purgeSome(ctx context.Context, b *bidx, i int, cut float64) (n, left int64, err error) {
	b.mu.Lock()
	locked := true
	defer func() {
		if locked {
			b.mu.Unlock()
		}
	}()
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if i >= len(b.shards) || !b.shards[i].dated {
		return 0, 0, nil
	}
	s := b.shards[i]
	q := bleve.NewNumericRangeInclusiveQuery(nil, &cut, nil, boolPtr(false))
	q.SetField(TombstoneAtField)
	req := bleve.NewSearchRequestOptions(q, purgeBatch, 0, false)
	req.SortBy([]string{"_id"})
	res, err := s.idx.SearchInContext(ctx, req)
	if err != nil {
		return 0, 0, fmt.Errorf("blevesearch: find tombstones: %w", err)
	}
	if len(res.Hits) == 0 {
		return 0, s.tombs.Load(), nil
	}
	batch := s.idx.NewBatch()
	for _, h := range res.Hits {
		batch.Delete(h.ID)
	}
	var persisted chan error
	if !d.noSync {
		persisted = make(chan error, 1)
		batch.SetPersistedCallback(func(err error) { persisted <- err })
	}
	if err := s.idx.Batch(batch); err != nil {
		return 0, 0, fmt.Errorf("blevesearch: purge tombstones: %w", err)
	}
	n = int64(len(res.Hits))
	left = s.tombs.Add(-n) // after the batch: see shard.tombs
	b.mu.Unlock()
	locked = false
	if persisted != nil {
		select {
		case err := <-persisted:
			if err != nil {
				return n, left, fmt.Errorf("blevesearch: persist tombstone purge: %w", err)
			}
		case <-ctx.Done():
			return n, left, ctx.Err()
		}
	}
	return n, left, nil
}

func boolPtr(v bool) *bool { return &v }

// Tombstones returns the number of (dated) tombstones in the concrete
// indices behind index, and the number of documents bleve holds there,
// tombstones included (for tests and measurements).
func (d *Driver) Tombstones(index string) (tombs, docs uint64, err error) {
	bs, err := d.targets(index)
	if err != nil {
		return 0, 0, err
	}
	for _, b := range bs {
		b.rw.RLock()
		for _, s := range b.shards {
			tombs += uint64(s.tombs.Load())
			n, err := s.idx.DocCount()
			if err != nil {
				b.rw.RUnlock()
				return 0, 0, err
			}
			docs += n
		}
		b.rw.RUnlock()
	}
	return tombs, docs, nil
}

var _ search.TombstonePurger = (*Driver)(nil)
