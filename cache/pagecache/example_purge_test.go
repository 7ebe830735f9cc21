package pagecache_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/cache"
	_ "github.com/repokit/repokit/cache/memdriver"
	"github.com/repokit/repokit/cache/pagecache"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/sqltx"
)

// A record page is tagged with its record id; every update purges that tag
// once its transaction has committed, so the next GET renders the new
// revision instead of serving the old one (and its ETag) until the TTL.
func ExamplePageCache_Purger() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "pagecache-example-")
	defer os.RemoveAll(dir)
	recs, err := records.Open(ctx, "sqlite://"+filepath.Join(dir, "repo.db"))
	if err != nil {
		panic(err)
	}
	defer recs.Close()
	c, err := cache.Open(ctx, "mem://")
	if err != nil {
		panic(err)
	}
	defer c.Close()
	pages := pagecache.New(c)

	// Every write of a record purges its pages after commit (and never if
	// the write rolls back).
	purge := func(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
		return sqltx.AfterCommit(tx, pages.Purger("record:"+ev.Record.ID.String()))
	}
	for _, op := range []records.Op{records.OpUpdate, records.OpDelete, records.OpUndelete, records.OpRevert, records.OpPurge} {
		recs.On(records.After, op, purge)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /records/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		pagecache.AddTags(r.Context(), "record:"+id.String())
		rec, err := recs.Get(r.Context(), id)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", fmt.Sprintf(`"%d"`, rec.Revision))
		fmt.Fprintf(w, "revision %d: %s", rec.Revision, rec.JSON)
	})
	srv := pages.Middleware(mux)
	get := func(path string) {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		fmt.Println(w.Header().Get("X-Cache"), w.Body.String())
	}

	rec, _ := recs.Create(ctx, json.RawMessage(`{"title":"v1"}`))
	path := "/records/" + rec.ID.String()
	get(path)
	get(path)
	if _, err := recs.Update(ctx, rec.ID, json.RawMessage(`{"title":"v2"}`), rec.Revision); err != nil {
		panic(err)
	}
	get(path)
	// Output:
	// MISS revision 0: {"title":"v1"}
	// HIT revision 0: {"title":"v1"}
	// MISS revision 1: {"title":"v2"}
}
