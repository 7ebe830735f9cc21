package main

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"github.com/repokit/repokit/cache"
	_ "github.com/repokit/repokit/cache/memcachedriver" // memcache://
	_ "github.com/repokit/repokit/cache/memdriver"      // mem://
	"github.com/repokit/repokit/cache/pagecache"
	_ "github.com/repokit/repokit/cache/redisdriver" // redis://
	"github.com/repokit/repokit/cache/session"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
	"github.com/repokit/repokit/search"
	_ "github.com/repokit/repokit/search/blevesearch" // bleve://
	_ "github.com/repokit/repokit/search/opensearch"  // opensearch://
	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/tasks"
	_ "github.com/repokit/repokit/tasks/broker/jetstreambroker" // nats://
	_ "github.com/repokit/repokit/tasks/broker/pubsubbroker"    // rabbit://, mem://
)

// defaultLocation is the name of the storage location --storage-url opens.
const defaultLocation = "default"

// Queue names, as Invenio's guide splits Celery work.
const (
	queueIndexing = "indexing" // bulk indexing consumers
	queueDefault  = "default"  // DOI registration, e-mail, exports
	queueLow      = "low"      // fixity checks, cleanup
)

var allQueues = []string{queueIndexing, queueDefault, queueLow}

// App holds every open driver of one process.
type App struct {
	cfg *Config
	log *slog.Logger

	db       *sqlx.DB
	records  *records.Store
	pids     *pid.Store
	resolver *pid.Resolver
	locs     *storage.Locations
	files    *files.Store
	engine   *search.Engine
	index    *search.Index
	searcher *search.Searcher
	indexer  *search.Indexer
	tasks    *tasks.Client
	cache    *cache.Cache
	sessions *session.Store
	pages    *pagecache.PageCache
	users    *Users
	datacite *DataCite
	mailer   *Mailer
	tmpl     *template.Template

	bcryptCost int
	started    bool
	closed     bool
	// unlockIndex releases the embedded index's process lock (after the
	// engine closed).
	unlockIndex func() error
}

// appOptions tune Open for tests.
type appOptions struct {
	queues     []string // queues this process works (nil: all)
	bcryptCost int
	// noSearch skips opening the search engine (admin commands that only
	// write records: indexing is queued and done by the workers), so they
	// can run while a server holds an embedded bleve index.
	noSearch bool
}

// Open opens every driver named by cfg (migrating the tables) and registers
// the task handlers; Start starts the workers.
func Open(ctx context.Context, cfg *Config, log *slog.Logger, o appOptions) (_ *App, err error) {
	a := &App{cfg: cfg, log: log, bcryptCost: o.bcryptCost}
	if a.bcryptCost == 0 {
		a.bcryptCost = bcrypt.DefaultCost
	}
	defer func() {
		if err != nil {
			_ = a.Close() // what was opened before the failure
		}
	}()
	log.Info("opening drivers", "db", redact(cfg.DBURL), "search", redact(cfg.SearchURL),
		"storage", redact(cfg.StorageURL), "cache", redact(cfg.CacheURL), "broker", redact(cfg.BrokerURL))

	// Records and PIDs own the database handle; every other package shares it.
	a.records, err = records.Open(ctx, cfg.DBURL, records.WithSchema(schemaURI, recordSchema), records.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	a.db = a.records.DB()
	if a.pids, err = pid.New(ctx, a.db); err != nil {
		return nil, fmt.Errorf("pids: %w", err)
	}
	a.resolver = pid.NewResolver(a.pids, a.records)
	if a.users, err = newUsers(ctx, a.db); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}

	// Storage locations and files.
	extra, err := cfg.extraLocations()
	if err != nil {
		return nil, err
	}
	sopts := []storage.Option{storage.WithName(defaultLocation),
		storage.WithSigningKey([]byte(cfg.SecretKey)), storage.WithSignedURLBase(cfg.BaseURL + "/_storage"), storage.WithLogger(log)}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		sopts = append(sopts, storage.WithLocation(name, extra[name]))
	}
	a.locs, err = storage.Open(ctx, cfg.StorageURL, sopts...)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	if a.files, err = files.New(ctx, a.db, a.locs, files.WithLogger(log)); err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}

	// Cache: sessions, task results, pages.
	a.cache, err = cache.Open(ctx, cfg.CacheURL, cache.WithLogger(log), cache.WithPrefix("repokit:"))
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	a.sessions = session.New(a.cache, session.WithSecure(cfg.SecureCookies), session.WithTTL(12*time.Hour), session.WithLogger(log))
	a.pages = pagecache.New(a.cache, pagecache.WithTTL(5*time.Minute), pagecache.WithLogger(log),
		pagecache.WithVaryHeaders("Accept", "Accept-Encoding", "Accept-Language"))

	// Tasks: one client per process; the workers start in Start.
	topts := []tasks.Option{
		tasks.WithLogger(log),
		tasks.WithResultCache(a.cache.Namespace("tasks")),
		tasks.WithRetryPolicy(tasks.DefaultRetryPolicy{Base: cfg.RetryBase, Max: 30 * time.Minute, Jitter: 0.2}),
		tasks.WithDefaultMaxAttempts(10),
		tasks.WithPollInterval(500 * time.Millisecond),
	}
	queues := o.queues
	if queues == nil {
		queues = allQueues
	}
	for _, q := range queues {
		if q == queueIndexing {
			// The indexing queue holds only the indexer's batch tasks, which
			// its batch consumers claim by type (search.WithConsumers below).
			// A queue worker there would find nothing to claim, and each of
			// its claims would walk the queue's whole backlog to say so.
			continue
		}
		n := map[string]int{queueDefault: 8, queueLow: 1}[q]
		if n == 0 {
			n = 4
		}
		topts = append(topts, tasks.WithQueue(q, n))
	}
	if cfg.BrokerURL != "" {
		topts = append(topts, tasks.WithBrokerURL(cfg.BrokerURL))
	}
	if a.tasks, err = tasks.New(ctx, a.db, topts...); err != nil {
		return nil, fmt.Errorf("tasks: %w", err)
	}

	// Search: the index, the user searcher with the permission filter, and
	// the outbox indexer attached to the records store.
	if !o.noSearch {
		unlock, err := lockEmbeddedIndex(cfg)
		if err != nil {
			return nil, err
		}
		a.unlockIndex = unlock
		a.engine, err = search.Open(ctx, cfg.SearchURL, search.WithPrefix(cfg.IndexPrefix), search.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		if a.index, err = a.engine.EnsureIndex(ctx, "records", indexDefinition); err != nil {
			return nil, fmt.Errorf("search index: %w", err)
		}
		if a.searcher, err = search.NewSearcher(a.index, searchConfig(searchPermission)); err != nil {
			return nil, fmt.Errorf("search configuration: %w", err)
		}
	}
	a.indexer = search.NewIndexer(a.engine, a.tasks, search.WithIndexName("records"), search.WithTaskQueue(queueIndexing),
		search.WithDumper(dumper(cfg.BaseURL)), search.WithBatch(200, 100*time.Millisecond), search.WithConsumers(2), search.WithLogger(log),
		// Search pages show what the index shows: purge them once the
		// engine confirmed a change, not when the record committed (the
		// index lags behind the database).
		search.WithAfterIndex(func(ctx context.Context, index string, _ []string) {
			a.pages.Purger(indexTag(index))(context.WithoutCancel(ctx))
		}))
	a.indexer.Attach(a.records)

	// Remote services of the background tasks.
	if cfg.DataCiteURL != "" {
		a.datacite = &DataCite{BaseURL: cfg.DataCiteURL, User: cfg.DataCiteUser, Password: cfg.DataCitePassword, Prefix: cfg.DOIPrefix}
	}
	if cfg.SMTPAddr != "" {
		a.mailer = &Mailer{Addr: cfg.SMTPAddr, From: cfg.MailFrom}
	}

	a.registerHooks()
	if err := a.registerTasks(); err != nil {
		return nil, err
	}
	if a.tmpl, err = parseTemplates(); err != nil {
		return nil, err
	}
	return a, nil
}

// Start starts the background workers (serve and worker roles).
func (a *App) Start(ctx context.Context) error {
	if err := a.tasks.Start(ctx); err != nil {
		return err
	}
	a.started = true
	return nil
}

// Stop waits for running tasks (up to ctx) and stops the workers.
func (a *App) Stop(ctx context.Context) error {
	if !a.started {
		return nil
	}
	a.started = false
	return a.tasks.Stop(ctx)
}

// Close releases every driver in RepoKit's shutdown order
// (docs/lifecycle.md), each only after everything that uses it: the HTTP
// server is already shut down (Serve returned), then the task workers are
// drained (Stop; the indexer's batches run on them, so this drains the
// indexer too) and the tasks client closed, then the search engine, files
// and their storage locations, the cache (sessions and pages live in it),
// and last the PID and records stores, which close the database records.Open
// opened. It is safe on a partly opened App and idempotent.
func (a *App) Close() error {
	if a.closed {
		return nil
	}
	a.closed = true
	var errs []error
	add := func(err error) {
		if err != nil && !errors.Is(err, search.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if a.tasks != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := a.Stop(ctx); err != nil { // a no-op after the caller's Stop
			a.log.Warn("stopping workers", "err", err)
		}
		cancel()
		add(a.tasks.Close())
	}
	if a.engine != nil {
		add(a.engine.Close())
	}
	if a.unlockIndex != nil {
		add(a.unlockIndex())
	}
	if a.files != nil {
		add(a.files.Close())
	}
	if a.locs != nil {
		add(a.locs.Close())
	}
	if a.cache != nil {
		add(a.cache.Close())
	}
	if a.pids != nil {
		add(a.pids.Close())
	}
	if a.records != nil {
		add(a.records.Close()) // closes the database
	}
	return errors.Join(errs...)
}

// Ready checks every driver, for /readyz.
func (a *App) Ready(ctx context.Context) map[string]error {
	out := map[string]error{}
	out["database"] = a.db.PingContext(ctx)
	var err error
	if a.engine != nil {
		_, err = a.engine.IndexExists(ctx, "records")
		out["search"] = err
	}
	_, err = a.locs.Default().Exists(ctx, "readyz-probe")
	out["storage"] = err
	key := "readyz"
	if err = a.cache.Set(ctx, key, []byte("1"), 10*time.Second); err == nil {
		_, err = a.cache.Get(ctx, key)
	}
	out["cache"] = err
	_, err = a.tasks.Queues(ctx)
	out["tasks"] = err
	return out
}

func queueList(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return allQueues, nil
	}
	var out []string
	for _, q := range strings.Split(s, ",") {
		q = strings.TrimSpace(q)
		ok := false
		for _, k := range allQueues {
			ok = ok || k == q
		}
		if !ok {
			return nil, fmt.Errorf("unknown queue %q (known: %s)", q, strings.Join(allQueues, ", "))
		}
		out = append(out, q)
	}
	return out, nil
}
