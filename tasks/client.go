package tasks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// Client enqueues tasks and, once started, runs the registered handlers.
// One Client per process is the norm; several processes (or several Clients)
// may share one database.
//
// WithTx returns a view of the client whose Enqueue and EnqueueMany write in
// the caller's transaction, like the WithTx views of records, records/pid
// and files.
type Client struct {
	*core
	// tx is the caller's transaction of a WithTx view, or nil.
	tx *sqlx.Tx
}

// core is the state a Client and its WithTx views share.
type core struct {
	db  *sqlx.DB
	st  *store
	cfg config
	log *slog.Logger
	own bool // db opened by Open, closed by Close

	mu        sync.Mutex
	handlers  map[string]*handlerEntry
	schedules []*schedule
	started   bool
	stopped   bool
	pokes     map[string]chan struct{}
	relayPoke chan struct{}
	// batchTypes are the types of batch handlers: fetched in bulk from SQL,
	// never delivered one by one through a broker.
	batchTypes []string

	fetchCancel context.CancelFunc // stops producers, scheduler, relay
	workCtx     context.Context    // parent of handler contexts
	workCancel  context.CancelFunc
	maintCancel context.CancelFunc
	producersWG sync.WaitGroup
	execWG      sync.WaitGroup
	maintWG     sync.WaitGroup
	hardStopped atomic.Bool

	runMu   sync.Mutex
	running map[int64]*runningJob

	comp *completer
}

type runningJob struct {
	job    *Job
	cancel context.CancelFunc
}

// New returns a client on the host's database (SQLite, PostgreSQL or
// MySQL/MariaDB), creating or migrating the tasks_ tables (unless
// WithoutMigrations).
func New(ctx context.Context, db *sqlx.DB, opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.queues) == 0 {
		cfg.queues["default"] = 10
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.clientID == "" {
		host, _ := os.Hostname()
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		cfg.clientID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	st, err := newStore(db)
	if err != nil {
		return nil, err
	}
	if err := migrateUnless(ctx, db, cfg.skipMigrations); err != nil {
		return nil, err
	}
	if cfg.broker == nil && cfg.brokerURL != "" && cfg.brokerURL != "sql://" {
		b, err := OpenBroker(ctx, cfg.brokerURL)
		if err != nil {
			return nil, err
		}
		// A broker opened here logs (and reports its client library's
		// asynchronous errors) through this client's logger.
		if l, ok := b.(interface{ SetLogger(*slog.Logger) }); ok {
			l.SetLogger(cfg.logger)
		}
		cfg.broker = b
		cfg.ownBroker = true
	}
	c := &core{
		db: db, st: st, cfg: cfg, handlers: map[string]*handlerEntry{},
		log:       cfg.logger.With("component", "tasks", "client", cfg.clientID),
		pokes:     map[string]chan struct{}{},
		running:   map[int64]*runningJob{},
		relayPoke: make(chan struct{}, 1),
	}
	for q := range cfg.queues {
		c.pokes[q] = make(chan struct{}, 1)
	}
	return &Client{core: c}, nil
}

// Open opens the database at url (see sqldb.Open) and returns a client on it;
// Close closes both.
func Open(ctx context.Context, url string, opts ...Option) (*Client, error) {
	db, err := sqldb.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	c, err := New(ctx, db, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	c.own = true
	return c, nil
}

// DB returns the database the client works on.
func (c *Client) DB() *sqlx.DB { return c.db }

// WithTx returns a view of the client whose Enqueue and EnqueueMany insert
// their tasks in tx: if tx rolls back the tasks never existed and never run.
// The caller commits or rolls back. When tx was begun by sqltx.InTx or
// sqltx.Begin, the workers are woken once it commits (sqltx.AfterCommit);
// in a transaction begun otherwise the tasks are found by the next poll
// (WithPollInterval). Every other method of the view runs on the database,
// as on c. Works on PostgreSQL, MySQL/MariaDB and SQLite.
func (c *Client) WithTx(tx *sqlx.Tx) *Client { return &Client{core: c.core, tx: tx} }

// Tx returns the caller's transaction of a WithTx view, or nil.
func (c *Client) Tx() *sqlx.Tx { return c.tx }

// Start starts the workers of every configured queue, the batch fetchers,
// the heartbeat, the rescuer of expired leases, the cleaner, the scheduler
// and (with a broker) the relay and consumers. Start does not block.
// Cancelling ctx stops fetching new work; call Stop to wait for the rest.
func (c *Client) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.stopped {
		return fmt.Errorf("%w: Start called twice", ErrClosed)
	}
	c.started = true
	fetchCtx, fetchCancel := context.WithCancel(context.WithoutCancel(ctx))
	c.fetchCancel = fetchCancel
	go func() {
		select {
		case <-ctx.Done():
			fetchCancel()
		case <-fetchCtx.Done():
		}
	}()
	c.workCtx, c.workCancel = context.WithCancel(context.Background())
	maintCtx, maintCancel := context.WithCancel(context.Background())
	c.maintCancel = maintCancel
	c.comp = newCompleter(c)

	var batchTypes []string
	for _, h := range c.handlers {
		if h.batch != nil {
			batchTypes = append(batchTypes, h.typ)
		}
	}
	sort.Strings(batchTypes)
	c.batchTypes = batchTypes
	if c.cfg.broker != nil {
		var tried sync.WaitGroup
		for q, n := range c.cfg.queues {
			tried.Add(1)
			c.startConsumer(fetchCtx, q, n, tried.Done)
		}
		c.producersWG.Add(1)
		go func() { defer c.producersWG.Done(); tried.Wait(); c.runRelay(fetchCtx) }()
	} else {
		for q, n := range c.cfg.queues {
			p := &producer{c: c, filter: claimFilter{queue: q, excludeTypes: batchTypes}, max: n, poke: c.pokes[q]}
			c.producersWG.Add(1)
			go func() { defer c.producersWG.Done(); p.run(fetchCtx) }()
		}
	}
	for _, h := range c.handlers {
		if h.batch != nil {
			n := max(h.opts.concurrency, 1)
			for i := 0; i < n; i++ {
				b := &batcher{c: c, h: h}
				c.producersWG.Add(1)
				go func() { defer c.producersWG.Done(); b.run(fetchCtx) }()
			}
		}
	}
	if len(c.schedules) > 0 {
		c.producersWG.Add(1)
		go func() { defer c.producersWG.Done(); c.runScheduler(fetchCtx) }()
	}
	c.maintWG.Add(1)
	go func() { defer c.maintWG.Done(); c.runMaintenance(maintCtx) }()
	c.log.Info("tasks client started", "queues", c.cfg.queues, "broker", c.cfg.broker != nil)
	return nil
}

// Stop shuts down gracefully: it stops fetching, waits for running tasks to
// finish until ctx is done, then cancels the contexts of those still running
// and hands their tasks back to the queue at once (they run again elsewhere).
// Completions are flushed before Stop returns. It returns ctx.Err() when
// tasks had to be released.
func (c *Client) Stop(ctx context.Context) error {
	c.mu.Lock()
	if !c.started || c.stopped {
		c.stopped = true
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	c.mu.Unlock()

	c.fetchCancel()
	done := make(chan struct{})
	go func() { c.producersWG.Wait(); c.execWG.Wait(); close(done) }()
	var forced error
	select {
	case <-done:
	case <-ctx.Done():
		forced = ctx.Err()
		c.hardStopped.Store(true)
		// Take the running ids before cancelling: a handler that returns
		// at the cancel untracks itself, and a task it left running would
		// then wait for its lease instead of being released (seen under
		// load: the task stayed running after Stop).
		ids := c.runningIDs()
		c.workCancel()
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := c.st.release(rctx, ids); err != nil {
			c.log.Error("release running tasks", "err", err)
		} else if len(ids) > 0 {
			c.log.Warn("released running tasks at shutdown", "count", len(ids))
		}
		cancel()
		// Handlers that respect their context return now; do not wait
		// forever for those that do not.
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			c.log.Error("handlers still running after their context was cancelled")
		}
	}
	c.comp.close()
	c.maintCancel()
	c.maintWG.Wait()
	c.workCancel()
	if c.cfg.broker != nil && c.cfg.ownBroker {
		if err := c.cfg.broker.Close(); err != nil {
			c.log.Warn("close broker", "err", err)
		}
	}
	c.log.Info("tasks client stopped", "forced", forced != nil)
	return forced
}

// Close stops the client (waiting up to 30 s) and closes the database if the
// client opened it.
func (c *Client) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.Stop(ctx)
	if c.own {
		if cerr := c.db.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// wake wakes whoever fetches a task of typ just made due on queue: for a
// batch type its batch fetchers only (the queue's workers and the relay
// never claim it: waking them cost a claim that walked the queue's whole
// backlog of batch tasks, at every commit of a bulk import), else the
// queue's workers (or the relay).
func (c *Client) wake(queue, typ string) {
	if h := c.handler(typ); h != nil && h.batch != nil && h.poke != nil {
		select {
		case h.poke <- struct{}{}:
		default:
		}
		return
	}
	c.poke(queue)
}

// againAfter returns how soon a fetcher that claimed fewer tasks than it
// asked for (short) looks again, given the previous delay prev: 0 (at the
// next poll or wake-up) unless due tasks were left behind under another
// fetcher's row locks (store.skippedDue), then a delay growing from 10ms
// while they stay locked.
func (c *Client) againAfter(ctx context.Context, f claimFilter, short bool, prev time.Duration) time.Duration {
	if !short || ctx.Err() != nil || !c.st.skippedDue(ctx, f) {
		return 0
	}
	if prev <= 0 {
		return 10 * time.Millisecond
	}
	return min(2*prev, c.cfg.pollInterval)
}

// wakeAll wakes every queue's workers, the relay and every batch fetcher.
func (c *Client) wakeAll() {
	for q := range c.pokes {
		c.poke(q)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.handlers {
		if h.poke != nil {
			select {
			case h.poke <- struct{}{}:
			default:
			}
		}
	}
}

func (c *Client) poke(queue string) {
	select {
	case c.relayPoke <- struct{}{}:
	default:
	}
	if ch, ok := c.pokes[queue]; ok {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (c *Client) track(j *Job, cancel context.CancelFunc) {
	c.runMu.Lock()
	c.running[j.ID] = &runningJob{job: j, cancel: cancel}
	c.runMu.Unlock()
}

func (c *Client) untrack(j *Job) {
	c.runMu.Lock()
	if r, ok := c.running[j.ID]; ok && r.job == j {
		delete(c.running, j.ID)
	}
	c.runMu.Unlock()
}

func (c *Client) runningIDs() []int64 {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	ids := make([]int64, 0, len(c.running))
	for id := range c.running {
		ids = append(ids, id)
	}
	return ids
}
