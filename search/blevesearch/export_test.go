package blevesearch

import (
	"context"

	"github.com/repokit/repokit/search"
)

// SearchExcluding runs a search that always excludes tombstones (as every
// search did before tombstones were counted), for the benchmark measuring
// what skipping the exclusion gains.
func SearchExcluding(ctx context.Context, d *Driver, name string, s *search.Spec) (*search.Results, error) {
	res, _, err := d.search(ctx, name, s, true)
	return res, err
}

// ShardDocs returns the number of documents of each shard of the concrete
// indices behind name.
func ShardDocs(d *Driver, name string) ([]uint64, error) {
	bs, err := d.targets(name)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, b := range bs {
		for _, s := range b.shards {
			n, err := s.idx.DocCount()
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// SetMultiPass makes d serve every search with the multi-pass path (one
// bleve search for the hits and one per facet with a filter), the path the
// one-pass search replaced, so that tests and benchmarks compare the two.
func SetMultiPass(d *Driver, on bool) { d.multiPass = on }
