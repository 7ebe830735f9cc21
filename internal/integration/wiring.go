// Package integration wires every RepoKit package the way a host
// application does (records with a recid minted into revision 0 and a
// files bucket, the outbox indexer, search, a page cache purged after
// commit, one access policy and safe HTTP errors), on URLs, so that the
// same wiring runs on the embedded defaults and on PostgreSQL/MariaDB,
// Redis, RabbitMQ and S3. Its test is the proof of issue 9; wiring.go is
// the whole host (compare with the 411-line app of that issue).
package integration

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/pagecache"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/fileshttp"
	"github.com/repokit/repokit/httperr"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/recordfiles"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/sqltx"
	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/tasks"
)

// Config names every service by URL.
type Config struct {
	DB, Files, Search, Cache, Broker string
	TaskOptions                      []tasks.Option
}

// Repo is the host: its stores and its HTTP handler.
type Repo struct {
	DB      *sqlx.DB
	Recs    *records.Store
	PIDs    *pid.Store
	Files   *recordfiles.Store
	Tasks   *tasks.Client
	Engine  *search.Engine
	Index   *search.Index
	Pages   *pagecache.PageCache
	Handler http.Handler

	fs    *files.Store
	locs  *storage.Locations
	cache *cache.Cache
}

const schemaURI = "https://example.org/schemas/dataset-v1.json"

var schema = []byte(`{"type":"object","required":["title","owners"],"properties":{
  "id":{"type":"string"},"title":{"type":"string","minLength":1},
  "owners":{"type":"array","items":{"type":"string"}},"access":{"enum":["public","restricted"]}}}`)

var mappings = search.Definition{Mappings: json.RawMessage(`{"properties":{"id":{"type":"keyword"},
  "revision":{"type":"long"},"created":{"type":"date"},"updated":{"type":"date"},"title":{"type":"text"},
  "owners":{"type":"keyword"},"access":{"type":"keyword"}}}`)}

// policy: owners do everything, everyone reads public records and their files.
var policy = access.Funcs{
	AllowFunc: func(_ context.Context, who access.Identity, a access.Action, res access.Resource) bool {
		var d struct {
			Owners []string
			Access string
		}
		_ = json.Unmarshal(res.Doc, &d)
		if res.Doc == nil {
			_ = json.Unmarshal(res.New, &d)
			return !who.Anonymous() && (a != access.Create || slices.Contains(d.Owners, who.ID))
		}
		return slices.Contains(d.Owners, who.ID) && !who.Anonymous() || d.Access == "public" && (a == access.Read || a == access.ReadFiles)
	},
	FilterFunc: func(_ context.Context, who access.Identity) access.Filter {
		return access.Filter{AnyOf: []access.Term{{Field: "access", Values: []string{"public"}}, {Field: "owners", Values: []string{who.ID}}}}
	},
}

// Open wires the repository.
func Open(ctx context.Context, cfg Config) (r *Repo, err error) {
	r = &Repo{}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if r.DB, err = sqldb.Open(ctx, cfg.DB); err != nil {
		return nil, err
	}
	if r.Recs, err = records.New(ctx, r.DB, records.WithSchema(schemaURI, schema), records.WithDefaultSchema(schemaURI)); err != nil {
		return nil, err
	}
	r.Recs.Guard(policy)
	if r.PIDs, err = pid.New(ctx, r.DB); err != nil {
		return nil, err
	}
	if r.locs, err = storage.Open(ctx, cfg.Files); err != nil {
		return nil, err
	}
	if r.fs, err = files.New(ctx, r.DB, r.locs); err != nil {
		return nil, err
	}
	fs := r.fs
	if r.Files, err = recordfiles.New(ctx, r.Recs, fs); err != nil {
		return nil, err
	}
	if r.Tasks, err = tasks.New(ctx, r.DB, append([]tasks.Option{tasks.WithBrokerURL(cfg.Broker)}, cfg.TaskOptions...)...); err != nil {
		return nil, err
	}
	if r.Engine, err = search.Open(ctx, cfg.Search); err != nil {
		return nil, err
	}
	if r.Index, err = r.Engine.EnsureIndex(ctx, "records", mappings); err != nil {
		return nil, err
	}
	if r.cache, err = cache.Open(ctx, cfg.Cache); err != nil {
		return nil, err
	}
	r.Pages = pagecache.New(r.cache)
	search.NewIndexer(r.Engine, r.Tasks, search.WithBatch(50, 20*time.Millisecond),
		search.WithAfterIndex(func(ctx context.Context, index string, _ []string) {
			r.Pages.Purger("index:" + index)(ctx)
		})).Attach(r.Recs)
	for _, op := range []records.Op{records.OpUpdate, records.OpDelete, records.OpUndelete, records.OpRevert, records.OpPurge} {
		r.Recs.On(records.After, op, func(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
			return sqltx.AfterCommit(tx, r.Pages.Purger("record:"+ev.Record.ID.String()))
		})
	}
	if err := r.Tasks.Start(ctx); err != nil {
		return nil, err
	}
	if r.Handler, err = r.routes(fs); err != nil {
		return nil, err
	}
	return r, nil
}

// Close releases everything in RepoKit's shutdown order (docs/lifecycle.md):
// task workers drained, tasks client, search engine, files, storage, cache,
// and the database last. It is safe on a partly opened Repo.
func (r *Repo) Close() {
	if r.Tasks != nil {
		_ = r.Tasks.Stop(context.Background())
		_ = r.Tasks.Close()
	}
	if r.Engine != nil {
		_ = r.Engine.Close()
	}
	if r.fs != nil {
		_ = r.fs.Close()
	}
	if r.locs != nil {
		_ = r.locs.Close()
	}
	if r.cache != nil {
		_ = r.cache.Close()
	}
	if r.DB != nil {
		_ = r.DB.Close()
	}
}

func (r *Repo) routes(fs *files.Store) (http.Handler, error) {
	searcher, err := search.NewSearcher(r.Index, search.SearchConfig{
		Schema: search.Schema{Default: []string{"title"}}, Permission: search.PolicyPermission(policy)})
	if err != nil {
		return nil, err
	}
	filesAPI := fileshttp.New(fs, fileshttp.WithBucketResolver(r.Files.BucketResolver("id")),
		fileshttp.WithAccessPolicy(policy, func(req *http.Request, res fileshttp.Resource) (access.Resource, error) {
			return r.Files.AccessResource(req, res.BucketID)
		}))
	mux := http.NewServeMux()
	mux.Handle("/api/records/{id}/files/{key...}", filesAPI)
	mux.HandleFunc("POST /api/records", func(w http.ResponseWriter, req *http.Request) {
		doc, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		var rec *records.Record
		var recid *pid.PID
		if err == nil {
			err = sqltx.InTx(req.Context(), r.DB, func(tx *sqlx.Tx) error {
				if rec, recid, err = r.PIDs.WithTx(tx).CreateRecord(req.Context(), r.Recs, doc); err == nil {
					_, err = r.Files.WithTx(tx).CreateBucket(req.Context(), rec.ID)
				}
				return err
			})
		}
		reply(w, req, rec, err, http.StatusCreated, "recid", recid)
	})
	mux.HandleFunc("GET /api/records/{id}", func(w http.ResponseWriter, req *http.Request) {
		rec, err := r.record(req)
		pagecache.AddTags(req.Context(), "record:"+req.PathValue("id"))
		if err == nil {
			err = records.CheckRead(req.Context(), policy, rec)
		}
		reply(w, req, rec, err, http.StatusOK)
	})
	mux.HandleFunc("PUT /api/records/{id}", func(w http.ResponseWriter, req *http.Request) {
		rec, err := r.record(req)
		var doc []byte
		if err == nil {
			doc, err = io.ReadAll(io.LimitReader(req.Body, 1<<20))
		}
		if err == nil {
			rev, _ := strconv.ParseInt(req.Header.Get("If-Match"), 10, 64)
			rec, err = r.Recs.Update(req.Context(), rec.ID, doc, rev)
		}
		reply(w, req, rec, err, http.StatusOK)
	})
	mux.HandleFunc("GET /api/search", func(w http.ResponseWriter, req *http.Request) {
		pagecache.AddTags(req.Context(), "index:records")
		sr, err := search.RequestFromValues(req.URL.Query())
		var res *search.Results
		if err == nil {
			res, err = searcher.Search(req.Context(), sr)
		}
		if err != nil {
			httperr.Write(w, req, nil, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(res)
	})
	return authenticate(r.Pages.Middleware(mux)), nil
}

func (r *Repo) record(req *http.Request) (*records.Record, error) {
	id, err := uuid.Parse(req.PathValue("id"))
	if err != nil {
		return nil, records.ErrNotFound
	}
	return r.Recs.Get(req.Context(), id)
}

// authenticate stands for the host's auth: "Authorization: Bearer <user>".
func authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if user, ok := bearer(req); ok {
			req = req.WithContext(access.WithIdentity(req.Context(), access.Identity{ID: user}))
		}
		next.ServeHTTP(w, req)
	})
}

func bearer(req *http.Request) (string, bool) {
	const p = "Bearer "
	h := req.Header.Get("Authorization")
	if len(h) > len(p) && h[:len(p)] == p {
		return h[len(p):], true
	}
	return "", false
}

// reply writes a record as JSON with its revision as ETag, or the error.
func reply(w http.ResponseWriter, req *http.Request, rec *records.Record, err error, status int, extra ...any) {
	if err == nil && rec == nil {
		err = errors.New("no record")
	}
	if err != nil {
		httperr.Write(w, req, nil, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", strconv.FormatInt(rec.Revision, 10))
	w.WriteHeader(status)
	body := map[string]any{"id": rec.ID, "revision": rec.Revision, "metadata": rec.JSON}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	_ = json.NewEncoder(w).Encode(body)
}
