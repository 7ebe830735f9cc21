package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
	_ "github.com/repokit/repokit/search/blevesearch"
	"github.com/repokit/repokit/tasks"
)

// Records reach the index through the outbox, asynchronously; a handler
// that must show the caller its own write waits until the record's revision
// is searchable.
func ExampleIndexer_WaitSearchable() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "search-example")
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	store, err := records.Open(ctx, "sqlite://"+filepath.Join(dir, "app.db"))
	if err != nil {
		panic(err)
	}
	defer store.Close()
	tc, err := tasks.New(ctx, store.DB(), tasks.WithPollInterval(20*time.Millisecond), tasks.WithLogger(quiet))
	if err != nil {
		panic(err)
	}
	engine, err := search.Open(ctx, "bleve://"+filepath.Join(dir, "index"))
	if err != nil {
		panic(err)
	}
	defer engine.Close()
	ix, err := engine.CreateIndex(ctx, "records", search.Definition{Mappings: json.RawMessage(
		`{"properties": {"title": {"type": "text"}}}`)})
	if err != nil {
		panic(err)
	}
	indexer := search.NewIndexer(engine, tc, search.WithBatch(50, 10*time.Millisecond), search.WithLogger(quiet))
	indexer.Attach(store)
	if err := tc.Start(ctx); err != nil {
		panic(err)
	}
	defer tc.Stop(ctx)

	rec, err := store.Create(ctx, json.RawMessage(`{"title": "Dark matter in galaxies"}`))
	if err != nil {
		panic(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := indexer.WaitSearchable(wctx, rec); err != nil {
		panic(err)
	}
	res, err := ix.Query(ctx, &search.Spec{Query: search.Match{Field: "title", Text: "galaxies"}, Size: 10})
	fmt.Println(res.Total, err)

	// direct indexing can wait for visibility itself
	if _, err := ix.Put(ctx, search.Document{ID: "note-1", Revision: 1, Source: json.RawMessage(`{"title": "galaxies again"}`)}, search.Refresh()); err != nil {
		panic(err)
	}
	res, err = ix.Query(ctx, &search.Spec{Query: search.Match{Field: "title", Text: "galaxies"}, Size: 10})
	fmt.Println(res.Total, err)
	// Output:
	// 1 <nil>
	// 2 <nil>
}
