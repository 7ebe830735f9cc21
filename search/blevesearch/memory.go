package blevesearch

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
)

// maxSegmentDocs caps the documents of a segment that bleve's merger
// builds (its default is 5 million). Merging holds all the postings of a
// term of the merged segment in memory while it writes them (zap's
// chunkedIntCoder): for a frequent word of a text field indexed with
// positions that is about 240 bytes per document of the merged segment
// (16 MiB live, measured, in a merge into 70,000 records of ~2.5 KB).
// Left at the default, the merges of a growing index grow with it: a
// reindex or an import of 1M records ends in merges into about 1M
// documents, hundreds of MiB of heap. Capped, a 1M index keeps 10 to 20
// segments and a merge's memory stays flat. Searches visit every segment:
// more segments cost a little per query (a term dictionary lookup per
// segment and term).
const maxSegmentDocs = 100_000

// scorchConfig is the runtime configuration of every bleve index the
// driver opens or creates.
func scorchConfig() map[string]any {
	return map[string]any{
		// decoded by scorch over its defaults: only the cap changes
		"scorchMergePlanOptions": map[string]any{"MaxSegmentSize": maxSegmentDocs},
	}
}

// newBleve creates a bleve index with scorchConfig.
func newBleve(path string, im mapping.IndexMapping) (bleve.Index, error) {
	return bleve.NewUsing(path, im, bleve.Config.DefaultIndexType, bleve.Config.DefaultKVStore, scorchConfig())
}

// openBleve opens a bleve index with scorchConfig.
func openBleve(path string) (bleve.Index, error) { return bleve.OpenUsing(path, scorchConfig()) }

// bleve reads its segment files through mmap: every page a search, a walk
// of the ids or a merge touches stays in the process's resident set (it is
// counted in RSS as a file page) until the kernel needs the memory back.
// A walk over a whole index — a reindex reading every document, a drift
// check reading every id and revision — therefore grows the RSS with the
// size of the index, although none of it is the process's own memory.
// ReleaseResident gives those pages back (they stay in the kernel's page
// cache: a later read maps them again with a minor fault, no disk read).

// ReleaseResident drops from the process's resident set the pages of the
// segment files of index name (an alias: of every index behind it) that
// reads have mapped in. search.Index.Reindex and search.Indexer.CheckDrift
// call it as they walk an index, so that their RSS does not grow with the
// size of the index. It is a no-op where it is not supported (outside
// Linux).
//
// Only the files of segments held by an open snapshot are released: a held
// segment cannot be closed (unmapped) meanwhile, so the address ranges
// released are certainly still the segment's mapping.
func (d *Driver) ReleaseResident(ctx context.Context, name string) error {
	if !releaseSupported {
		return nil
	}
	bs, release, err := d.parts(name)
	if err != nil {
		return err
	}
	defer release()
	var readers []index.IndexReader
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()
	paths := map[string]bool{}
	for _, b := range bs {
		for _, sh := range b.shards { // read under b.rw (held since parts)
			adv, err := sh.idx.Advanced()
			if err != nil {
				return err
			}
			r, err := adv.Reader()
			if err != nil {
				return err
			}
			readers = append(readers, r)
			snap, ok := r.(*scorch.IndexSnapshot)
			if !ok {
				continue
			}
			for _, ss := range snap.Segments() {
				if p, ok := ss.Segment().(interface{ Path() string }); ok && p.Path() != "" {
					paths[p.Path()] = true
				}
			}
		}
	}
	if len(paths) == 0 {
		return nil
	}
	if err := releaseFiles(paths); err != nil {
		return fmt.Errorf("blevesearch: release resident pages of %s: %w", name, err)
	}
	return nil
}
