package main

import (
	"context"
	"fmt"
	"os"

	"github.com/repokit/repokit/search"
)

// releaseIndexPages gives back the pages of the index files that earlier
// stages (the import, the search mix) mapped into the process, if the
// driver maps its files (bleve), so that the drift and reindex stages start
// from the process's own memory: VmHWM is reset to the resident set at a
// stage's start and could not show the stage's own peak below it.
func releaseIndexPages(ctx context.Context, engine *search.Engine, index string) {
	r, ok := engine.Driver().(interface {
		ReleaseResident(ctx context.Context, name string) error
	})
	if !ok {
		return
	}
	before := procStatus("RssFile")
	if err := r.ReleaseResident(ctx, index); err != nil {
		fmt.Fprintln(os.Stderr, "scalebench: release index pages:", err)
		return
	}
	fmt.Fprintf(os.Stderr, "scalebench: released the mapped index pages: RssFile %.0f -> %.0f MiB\n", mib(before), mib(procStatus("RssFile")))
}

// countDocs counts the documents of index with a bare match-all (no facets,
// no sort): the reindex and rebuild stages check the count with it, so that
// their peak is the operation's, not that of a faceted search over the new
// index (which maps a large part of its files).
func countDocs(ctx context.Context, index *search.Index) (*search.Results, error) {
	return index.Query(ctx, &search.Spec{Query: search.MatchAll{}, Size: 0, TrackTotal: true})
}
