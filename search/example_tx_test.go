package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/search/blevesearch"
	"github.com/repokit/repokit/sqltx"
	"github.com/repokit/repokit/tasks"
)

// An engine on a driver opened by hand (search.Open does both from a URL);
// one WithLogger option serves the engine and the indexer.
func ExampleNew() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "search-example")
	defer os.RemoveAll(dir)
	log := slog.New(slog.DiscardHandler)

	drv, err := blevesearch.New(ctx, filepath.Join(dir, "index"))
	if err != nil {
		panic(err)
	}
	engine, err := search.New(ctx, drv, search.WithPrefix("app-"), search.WithLogger(log))
	if err != nil {
		panic(err)
	}
	defer engine.Close() // closes drv

	tc, err := tasks.Open(ctx, "sqlite://"+filepath.Join(dir, "app.db"), tasks.WithLogger(log))
	if err != nil {
		panic(err)
	}
	defer tc.Close()
	_ = search.NewIndexer(engine, tc,
		search.WithIndexName("records"),
		search.WithBatch(200, 100*time.Millisecond),
		search.WithLogger(log))
	fmt.Println(engine.Prefix())
	// Output: app-
}

// The host writes a record with a store that has no indexing hooks and
// queues its index operation itself, in the same transaction: the operation
// exists only if the record commits, and the consumer starts on it at the
// commit.
func ExampleIndexer_WithTx() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "search-example")
	defer os.RemoveAll(dir)
	log := slog.New(slog.DiscardHandler)

	store, err := records.Open(ctx, "sqlite://"+filepath.Join(dir, "app.db"))
	if err != nil {
		panic(err)
	}
	defer store.Close()
	tc, err := tasks.New(ctx, store.DB(), tasks.WithLogger(log))
	if err != nil {
		panic(err)
	}
	engine, err := search.Open(ctx, "bleve://"+filepath.Join(dir, "index"), search.WithLogger(log))
	if err != nil {
		panic(err)
	}
	defer engine.Close()
	if _, err := engine.CreateIndex(ctx, "records", search.Definition{Mappings: json.RawMessage(
		`{"properties": {"title": {"type": "text"}}}`)}); err != nil {
		panic(err)
	}
	indexer := search.NewIndexer(engine, tc, search.WithLogger(log))
	indexer.ReadFrom(store) // consume only: no hooks on store
	if err := tc.Start(ctx); err != nil {
		panic(err)
	}
	defer tc.Stop(ctx)

	var rec *records.Record
	err = sqltx.InTx(ctx, store.DB(), func(tx *sqlx.Tx) error {
		var err error
		if rec, err = store.WithTx(tx).Create(ctx, json.RawMessage(`{"title": "Dark matter"}`)); err != nil {
			return err
		}
		return indexer.WithTx(tx).Enqueue(ctx, rec.ID.String(), "", rec.Revision)
	})
	if err != nil {
		panic(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	fmt.Println(indexer.WaitSearchable(wctx, rec))
	// Output: <nil>
}
