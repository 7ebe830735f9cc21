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

// checkCount checks that index holds n documents after the stage what.
// It runs after the stage's measurement: even a bare match-all count maps
// a large part of the index's files (162 of 390 MiB at 100k documents),
// which would count in the stage's peak though the stage did not need it.
func checkCount(ctx context.Context, index *search.Index, n int, what string) error {
	res, err := index.Query(ctx, &search.Spec{Query: search.MatchAll{}, Size: 0, TrackTotal: true})
	if err != nil {
		return fmt.Errorf("%s: count: %w", what, err)
	}
	if res.Total != int64(n) {
		return fmt.Errorf("%s: %d documents after it, want %d", what, res.Total, n)
	}
	return nil
}
