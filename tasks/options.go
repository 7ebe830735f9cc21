package tasks

import (
	"fmt"
	"log/slog"
	"time"
)

// Option configures a Client (New, Open).
type Option func(*config)

type config struct {
	logger            *slog.Logger
	queues            map[string]int
	pollInterval      time.Duration
	lease             time.Duration
	fetchBatch        int
	retry             RetryPolicy
	resultRetention   time.Duration
	deadRetention     time.Duration
	cleanInterval     time.Duration
	resultCache       ResultCache
	resultCachePrefix string
	middleware        []Middleware
	broker            Broker
	brokerURL         string
	ownBroker         bool // opened from brokerURL: closed by Stop
	redeliver         time.Duration
	maxAttempts       int
	maxCrashes        int
	defaultTimeout    time.Duration
	clientID          string

	// skipMigrations: WithoutMigrations (migrations.go).
	skipMigrations bool
}

func defaultConfig() config {
	return config{
		logger:            slog.Default(),
		queues:            map[string]int{},
		pollInterval:      time.Second,
		lease:             30 * time.Second,
		fetchBatch:        100,
		retry:             DefaultRetryPolicy{},
		resultRetention:   24 * time.Hour,
		deadRetention:     7 * 24 * time.Hour,
		cleanInterval:     time.Hour,
		maxAttempts:       25,
		maxCrashes:        3,
		defaultTimeout:    time.Minute,
		resultCachePrefix: "tasks:result:",
	}
}

// WithLogger sets the slog logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithQueue makes the client work queue name with up to concurrency tasks
// at once. Without any WithQueue the client works "default" with 10 workers.
func WithQueue(name string, concurrency int) Option {
	return func(c *config) { c.queues[name] = concurrency }
}

// WithPollInterval sets how often an idle worker looks for due tasks
// (default 1s). Tasks enqueued through this client wake its workers at once.
func WithPollInterval(d time.Duration) Option { return func(c *config) { c.pollInterval = d } }

// WithLease sets how long a claimed task stays reserved without a heartbeat
// (default 30s). The heartbeat extends it every lease/3; a task whose lease
// expired (its worker died) is rescued and runs again without using an
// attempt, up to MaxCrashes times.
func WithLease(d time.Duration) Option { return func(c *config) { c.lease = d } }

// WithFetchBatch caps how many tasks one fetch claims (default 100).
func WithFetchBatch(n int) Option { return func(c *config) { c.fetchBatch = n } }

// WithRetryPolicy replaces the default exponential backoff with jitter.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *config) { c.retry = p } }

// WithResultRetention sets how long completed tasks and their results are kept
// (default 24h); WithDeadRetention the same for dead and cancelled tasks
// (default 7 days); WithCleanInterval how often the cleaner runs (default 1h).
func WithResultRetention(d time.Duration) Option {
	return func(c *config) { c.resultRetention = d }
}

// WithDeadRetention sets how long dead and cancelled tasks are kept.
func WithDeadRetention(d time.Duration) Option { return func(c *config) { c.deadRetention = d } }

// WithCleanInterval sets how often old finished tasks are deleted.
func WithCleanInterval(d time.Duration) Option { return func(c *config) { c.cleanInterval = d } }

// WithResultCache also writes results to rc and reads them from it first; any
// cache error falls back to SQL. *cache.Cache satisfies ResultCache.
func WithResultCache(rc ResultCache) Option { return func(c *config) { c.resultCache = rc } }

// WithResultCachePrefix sets the cache key prefix of results (default
// "tasks:result:"); use one per database when several share a cache.
func WithResultCachePrefix(p string) Option {
	return func(c *config) { c.resultCachePrefix = p }
}

// WithMiddleware adds middleware around every task execution; the first one
// given is the outermost. Tasks of batch handlers go through it one by one
// too: each task's chain runs, and the batch handler runs once every task of
// the batch has reached the end of its chain (see RegisterBatch).
func WithMiddleware(m ...Middleware) Option {
	return func(c *config) { c.middleware = append(c.middleware, m...) }
}

// WithBroker delivers due tasks through a message broker instead of polling
// SQL. Scheduling state stays in SQL; a relay publishes due task ids. The
// caller keeps ownership of b (Stop does not close it).
func WithBroker(b Broker) Option { return func(c *config) { c.broker = b } }

// WithBrokerURL opens the broker from a URL through the registered drivers
// (see RegisterBroker); "" or "sql://" means the SQL store itself. Stop
// closes a broker opened this way. A broker with a SetLogger(*slog.Logger)
// method (jetstreambroker) logs through the client's logger.
func WithBrokerURL(url string) Option { return func(c *config) { c.brokerURL = url } }

// WithRedeliver sets after how long a published but unfinished task is
// published again (default: the lease).
func WithRedeliver(d time.Duration) Option { return func(c *config) { c.redeliver = d } }

// WithDefaultMaxAttempts sets MaxAttempts for tasks enqueued without one
// (default 25).
func WithDefaultMaxAttempts(n int) Option { return func(c *config) { c.maxAttempts = n } }

// WithDefaultMaxCrashes sets MaxCrashes for tasks enqueued without one
// (default 3).
func WithDefaultMaxCrashes(n int) Option { return func(c *config) { c.maxCrashes = n } }

// WithDefaultTimeout sets the run timeout of tasks enqueued without one
// (default 1 minute; 0 = none).
func WithDefaultTimeout(d time.Duration) Option {
	return func(c *config) { c.defaultTimeout = d }
}

// WithClientID names this client in logs (default host-pid-random).
func WithClientID(id string) Option { return func(c *config) { c.clientID = id } }

func (c *config) validate() error {
	if c.lease < 100*time.Millisecond {
		return fmt.Errorf("%w: lease %v below 100ms", ErrInvalid, c.lease)
	}
	if c.pollInterval <= 0 || c.fetchBatch <= 0 || c.maxAttempts <= 0 || c.maxCrashes <= 0 {
		return fmt.Errorf("%w: poll interval, fetch batch, max attempts and max crashes must be positive", ErrInvalid)
	}
	for q, n := range c.queues {
		if q == "" || n <= 0 {
			return fmt.Errorf("%w: queue %q concurrency %d", ErrInvalid, q, n)
		}
	}
	if c.redeliver <= 0 {
		c.redeliver = c.lease
	}
	return nil
}

// EnqueueOption configures one Enqueue.
type EnqueueOption func(*enqueueOpts)

type enqueueOpts struct {
	queue       string
	priority    int
	runAt       time.Time
	delay       time.Duration
	maxAttempts int
	maxCrashes  int
	timeout     time.Duration
	timeoutSet  bool
	uniqueKey   string
}

// Queue puts the task on the named queue (default "default").
func Queue(name string) EnqueueOption { return func(o *enqueueOpts) { o.queue = name } }

// Priority orders due tasks within a queue: higher runs first (default 0).
func Priority(n int) EnqueueOption { return func(o *enqueueOpts) { o.priority = n } }

// Delay runs the task no earlier than d from now (Celery's countdown).
func Delay(d time.Duration) EnqueueOption { return func(o *enqueueOpts) { o.delay = d } }

// At runs the task no earlier than t (Celery's ETA).
func At(t time.Time) EnqueueOption { return func(o *enqueueOpts) { o.runAt = t } }

// MaxAttempts caps how many times the handler may fail (error, panic,
// timeout) before the task goes dead (default 25, see
// WithDefaultMaxAttempts). Runs lost to a crashed worker do not count here:
// see MaxCrashes.
func MaxAttempts(n int) EnqueueOption { return func(o *enqueueOpts) { o.maxAttempts = n } }

// MaxCrashes caps how many runs of the task may be lost to a crashed worker
// (its lease expired: killed, out of memory, machine lost) before the task
// goes dead, so that a task that crashes every worker that runs it stops
// (default 3, see WithDefaultMaxCrashes). A crash is recorded in the error
// history but does not use one of MaxAttempts.
func MaxCrashes(n int) EnqueueOption { return func(o *enqueueOpts) { o.maxCrashes = n } }

// Timeout cancels the handler's context after d (0 = no timeout).
func Timeout(d time.Duration) EnqueueOption {
	return func(o *enqueueOpts) { o.timeout, o.timeoutSet = d, true }
}

// UniqueKey skips the enqueue while another task with the same key is pending
// or running; Enqueue then returns the id of that task.
func UniqueKey(k string) EnqueueOption { return func(o *enqueueOpts) { o.uniqueKey = k } }

// HandlerOption configures a registered handler.
type HandlerOption func(*handlerOpts)

type handlerOpts struct {
	batchSize   int
	batchWait   time.Duration
	concurrency int
}

// BatchSize caps how many tasks a batch handler gets at once (default 100).
func BatchSize(n int) HandlerOption { return func(o *handlerOpts) { o.batchSize = n } }

// BatchWait is how long a batch handler waits to fill a batch (default 0:
// run what is due now).
func BatchWait(d time.Duration) HandlerOption { return func(o *handlerOpts) { o.batchWait = d } }

// Concurrency limits how many tasks of this type (batches, for a batch
// handler) run at once in this client. For single-task handlers the queue's
// concurrency still applies on top.
func Concurrency(n int) HandlerOption { return func(o *handlerOpts) { o.concurrency = n } }
