package search

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/tasks"
)

// DefaultTaskType is the task type of index operations.
const DefaultTaskType = "search.index"

// IndexTask is the argument of one queued index operation (the outbox row):
// the record id and the operation; the consumer reads the record's current
// state, so the revision here is only a hint used when the record is gone
// (purged).
type IndexTask struct {
	ID       string `json:"id"`
	Op       OpKind `json:"op"`
	Revision int64  `json:"rev"`
	Index    string `json:"index"`
	// Force writes the record's current state even over a higher revision
	// in the index (drift repair when the index is ahead of the database).
	Force bool `json:"force,omitempty"`
}

// Dumper turns a record into the document to index.
type Dumper func(ctx context.Context, r *records.Record) (json.RawMessage, error)

// Router chooses the index (name without prefix) of a record.
type Router func(r *records.Record) (string, error)

// Indexer keeps indices equal to a records store with no drift:
//
//   - Attach registers records After hooks that enqueue an IndexTask through
//     tasks.Client.WithTx in the record's own transaction (outbox: the operation
//     commits with the record or not at all);
//   - a batch consumer (tasks.RegisterBatch) reads the current state of each
//     record (records.GetMany with IncludeDeleted: deleted or purged → a
//     delete), sends one bulk request per index and returns per-task
//     results: only what the engine confirmed is acknowledged, a version
//     conflict (the index holds an equal or newer revision) is a success, a
//     failed item retries with the task's backoff and dies with the reason,
//     and one bad item never fails the others. Redelivery after a crash is
//     harmless: revisions are external versions.
//   - CheckDrift compares database and index; RebuildAll reindexes from the
//     database.
//
// WithTx returns a view whose Enqueue writes in the caller's transaction,
// like the WithTx views of records, tasks and files.
type Indexer struct {
	*indexerCore
	// tx is the caller's transaction of a WithTx view, or nil.
	tx *sqlx.Tx
}

// indexerCore is the state an Indexer and its WithTx views share.
type indexerCore struct {
	engine   *Engine
	tc       *tasks.Client
	store    *records.Store
	taskType string
	queue    string
	index    string
	router   Router
	dumper   Dumper
	log      *slog.Logger
	enqOpts  []tasks.EnqueueOption

	mu      sync.Mutex
	indices map[string]*Index

	afterIndex AfterIndexFunc // indexer_notify.go
	tomb       tombConfig     // tombstones.go
	timers     purgeTimers    // tombstones.go
}

// IndexerOption configures an Indexer (NewIndexer). WithLogger is both an
// Option and an IndexerOption.
type IndexerOption interface{ applyIndexer(*indexerConfig) }

type indexerOption func(*indexerConfig)

func (f indexerOption) applyIndexer(c *indexerConfig) { f(c) }

type indexerConfig struct {
	taskType    string
	queue       string
	index       string
	router      Router
	dumper      Dumper
	batchSize   int
	batchWait   time.Duration
	concurrency int
	maxAttempts int
	log         *slog.Logger
	afterIndex  AfterIndexFunc // indexer_notify.go
	tomb        tombConfig     // tombstones.go
}

// WithIndexName sets the default index (name without prefix; default
// "records").
func WithIndexName(n string) IndexerOption {
	return indexerOption(func(c *indexerConfig) { c.index = n })
}

// WithRouter sets the router hook (default: every record to WithIndexName).
func WithRouter(r Router) IndexerOption {
	return indexerOption(func(c *indexerConfig) { c.router = r })
}

// WithDumper sets the dumper hook (default DefaultDumper).
func WithDumper(d Dumper) IndexerOption {
	return indexerOption(func(c *indexerConfig) { c.dumper = d })
}

// WithTaskType sets the task type (default DefaultTaskType); use distinct
// types for indexers of different stores sharing one tasks database.
func WithTaskType(t string) IndexerOption {
	return indexerOption(func(c *indexerConfig) { c.taskType = t })
}

// WithTaskQueue sets the tasks queue of index operations (default: the tasks
// default queue).
func WithTaskQueue(q string) IndexerOption {
	return indexerOption(func(c *indexerConfig) { c.queue = q })
}

// WithBatch sets the consumer batch size (default 500) and how long it waits
// to fill a batch (default 200ms).
func WithBatch(size int, wait time.Duration) IndexerOption {
	return indexerOption(func(c *indexerConfig) { c.batchSize, c.batchWait = size, wait })
}

// WithConsumers sets how many batches this process consumes at once (default
// 1; several processes may consume concurrently too).
func WithConsumers(n int) IndexerOption {
	return indexerOption(func(c *indexerConfig) { c.concurrency = n })
}

// WithMaxAttempts sets how many times a failing index operation is tried
// before it is dead (default: the tasks client's default).
func WithMaxAttempts(n int) IndexerOption {
	return indexerOption(func(c *indexerConfig) { c.maxAttempts = n })
}

// DefaultDumper indexes the record's JSON object plus "id", "revision",
// "created" and "updated" (RFC 3339, UTC); keys of the record with those
// names are overwritten. The result is compact JSON.
func DefaultDumper(_ context.Context, r *records.Record) (json.RawMessage, error) {
	if b, ok := dumpFast(r); ok {
		return b, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.JSON, &m); err != nil || m == nil {
		return nil, fmt.Errorf("%w: record %s is not a JSON object", ErrInvalid, r.ID)
	}
	set := func(k string, v any) {
		b, _ := json.Marshal(v)
		m[k] = b
	}
	set("id", r.ID.String())
	set("revision", r.Revision)
	set("created", r.Created.UTC().Format(time.RFC3339Nano))
	set("updated", r.Updated.UTC().Format(time.RFC3339Nano))
	return json.Marshal(m)
}

// dumpFast is DefaultDumper for the usual record, a JSON object without
// any of the four keys it adds: the keys are written in front of the
// record's own, which are copied (compacted) without being decoded. It
// reports false when the record needs the general path (not an object, or
// a key that may name one of the four: encoding/json matches keys without
// regard to case, so a probe match is conservative).
func dumpFast(r *records.Record) (json.RawMessage, bool) {
	var probe struct { // RawMessage, not pointers: a null value is seen too
		ID       json.RawMessage `json:"id"`
		Revision json.RawMessage `json:"revision"`
		Created  json.RawMessage `json:"created"`
		Updated  json.RawMessage `json:"updated"`
	}
	var buf bytes.Buffer
	buf.Grow(len(r.JSON) + 160)
	buf.WriteString(`{"id":"`)
	buf.WriteString(r.ID.String())
	buf.WriteString(`","revision":`)
	buf.WriteString(strconv.FormatInt(r.Revision, 10))
	buf.WriteString(`,"created":"`)
	buf.WriteString(r.Created.UTC().Format(time.RFC3339Nano))
	buf.WriteString(`","updated":"`)
	buf.WriteString(r.Updated.UTC().Format(time.RFC3339Nano))
	buf.WriteByte('"')
	head := buf.Len()
	// Compact validates the whole document; then the probe reads its
	// top-level keys
	if err := json.Compact(&buf, r.JSON); err != nil {
		return nil, false
	}
	body := buf.Bytes()[head:]
	if len(body) < 2 || body[0] != '{' {
		return nil, false
	}
	if err := json.Unmarshal(body, &probe); err != nil || len(probe.ID)+len(probe.Revision)+len(probe.Created)+len(probe.Updated) > 0 {
		return nil, false
	}
	out := buf.Bytes()
	if len(body) == 2 { // {}
		out = append(out[:head], '}')
	} else {
		out[head] = ',' // the record's '{' follows the added keys
	}
	return out, true
}

// NewIndexer returns an indexer writing to engine's indices and registers
// its batch consumer on tc (call before tc.Start; consumers then run in
// every process that starts tc). Attach it to a store to produce operations.
func NewIndexer(engine *Engine, tc *tasks.Client, opts ...IndexerOption) *Indexer {
	c := indexerConfig{taskType: DefaultTaskType, index: "records", batchSize: 500, batchWait: 200 * time.Millisecond, concurrency: 1, log: slog.Default()}
	for _, o := range opts {
		if o != nil {
			o.applyIndexer(&c)
		}
	}
	ix := &indexerCore{engine: engine, tc: tc, taskType: c.taskType, queue: c.queue, index: c.index,
		router: c.router, dumper: c.dumper, log: c.log, indices: map[string]*Index{}, afterIndex: c.afterIndex}
	if ix.dumper == nil {
		ix.dumper = DefaultDumper
	}
	if c.queue != "" {
		ix.enqOpts = append(ix.enqOpts, tasks.Queue(c.queue))
	}
	if c.maxAttempts > 0 {
		ix.enqOpts = append(ix.enqOpts, tasks.MaxAttempts(c.maxAttempts))
	}
	x := &Indexer{indexerCore: ix}
	ix.setupPurge(c.tomb) // tombstones.go
	tasks.RegisterBatch(tc, c.taskType, x.consume,
		tasks.BatchSize(c.batchSize), tasks.BatchWait(c.batchWait), tasks.Concurrency(c.concurrency))
	return x
}

// WithTx returns a view of the indexer whose Enqueue writes its index
// operation in tx (the caller commits or rolls back): the operation exists
// only if tx commits, and the consumers are woken once it has (see
// tasks.Client.WithTx). Every other method of the view works as on ix.
func (ix *Indexer) WithTx(tx *sqlx.Tx) *Indexer { return &Indexer{indexerCore: ix.indexerCore, tx: tx} }

// Attach registers After hooks on store for every operation, enqueueing an
// IndexTask in the operation's transaction, and makes store the source the
// consumer reads. Attach one store per indexer.
func (ix *Indexer) Attach(store *records.Store) {
	ix.store = store
	ix.attachHooks(store)
}

// ReadFrom makes store the source the consumer reads without registering
// hooks (for processes that only consume).
func (ix *Indexer) ReadFrom(store *records.Store) { ix.store = store }

func (ix *Indexer) attachHooks(store *records.Store) {
	for _, op := range []records.Op{records.OpCreate, records.OpUpdate, records.OpDelete, records.OpUndelete, records.OpRevert, records.OpPurge} {
		store.On(records.After, op, ix.hook)
	}
}

func (ix *Indexer) hook(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
	t := IndexTask{ID: ev.Record.ID.String(), Op: OpIndex, Revision: ev.Record.Revision}
	switch {
	case ev.Op == records.OpPurge:
		// the record row disappears: the delete must outrank the indexed revision
		t.Op, t.Revision = OpDelete, ev.Record.Revision+1
	case ev.Record.Deleted:
		t.Op = OpDelete
	}
	name, err := ix.route(ev.Record)
	if err != nil {
		return err
	}
	t.Index = name
	if _, err := ix.tc.WithTx(tx).Enqueue(ctx, ix.taskType, t, ix.enqOpts...); err != nil {
		return fmt.Errorf("search: enqueue index operation for %s: %w", t.ID, err)
	}
	// routed elsewhere than before: one more task naming the old index, so
	// the consumer deletes the copy there
	if ev.Previous != nil && ix.router != nil {
		prev, err := ix.route(ev.Previous)
		if err != nil {
			return err
		}
		if prev != name {
			t.Index = prev
			if _, err := ix.tc.WithTx(tx).Enqueue(ctx, ix.taskType, t, ix.enqOpts...); err != nil {
				return fmt.Errorf("search: enqueue index operation for %s: %w", t.ID, err)
			}
		}
	}
	return nil
}

func (ix *Indexer) route(r *records.Record) (string, error) {
	if ix.router == nil {
		return ix.index, nil
	}
	n, err := ix.router(r)
	if err != nil {
		return "", fmt.Errorf("search: route record %s: %w", r.ID, err)
	}
	return n, nil
}

// Enqueue queues an index operation for record id (in the caller's
// transaction on a WithTx view); the consumer reads the record's current
// state and writes it where the router sends it. index names where the
// record may be indexed now ("" = the default index): a copy there is
// deleted if the record routes elsewhere; hint is the revision to delete
// with if the record no longer exists.
func (ix *Indexer) Enqueue(ctx context.Context, id, index string, hint int64) error {
	return ix.enqueue(ctx, id, index, hint, false)
}

func (ix *Indexer) enqueue(ctx context.Context, id, index string, hint int64, force bool) error {
	if index == "" {
		index = ix.index
	}
	t := IndexTask{ID: id, Op: OpIndex, Revision: hint, Index: index, Force: force}
	_, err := ix.tc.WithTx(ix.tx).Enqueue(ctx, ix.taskType, t, ix.enqOpts...)
	return err
}

// indexNamed opens (and caches) an index by name.
func (ix *Indexer) indexNamed(ctx context.Context, name string) (*Index, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if x, ok := ix.indices[name]; ok {
		return x, nil
	}
	x, err := ix.engine.OpenIndex(ctx, name)
	if err != nil {
		return nil, err
	}
	ix.indices[name] = x
	return x, nil
}

// ItemError is the error of one failed index operation.
type ItemError struct {
	ID, Index string
	Reason    string
	Retryable bool
}

// Error implements error.
func (e *ItemError) Error() string {
	return fmt.Sprintf("search: index %s in %s: %s", e.ID, e.Index, e.Reason)
}

type planned struct {
	index string
	op    Op
	err   error
}

// consume is the batch handler: current state from the database, one bulk
// request per index, one result per task.
func (ix *Indexer) consume(ctx context.Context, ts []*tasks.Task[IndexTask]) []error {
	errs := make([]error, len(ts))
	if ix.store == nil {
		for i := range errs {
			errs[i] = errors.New("search: indexer not attached to a records store")
		}
		return errs
	}
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for i, t := range ts {
		id, err := uuid.Parse(t.Args.ID)
		if err != nil {
			errs[i] = tasks.Cancel(fmt.Errorf("%w: index task with bad record id %q", ErrInvalid, t.Args.ID))
			continue
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	recs, err := ix.store.GetMany(ctx, ids, records.IncludeDeleted())
	if err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("search: read records: %w", err)
			}
		}
		return errs
	}
	byID := make(map[string]*records.Record, len(recs))
	for _, r := range recs {
		byID[r.ID.String()] = r
	}
	// one operation per (index, record), shared by all tasks of that record
	plans := map[string]*planned{}
	key := func(index, id string) string { return index + "\x00" + id }
	taskPlan := make([]*planned, len(ts))
	for i, t := range ts {
		if errs[i] != nil {
			continue
		}
		id := t.Args.ID
		r := byID[id]
		var p *planned
		if r == nil { // purged: delete where it was routed, above its last revision
			index := t.Args.Index
			if index == "" {
				index = ix.index
			}
			k := key(index, id)
			if p = plans[k]; p == nil || p.op.Revision < t.Args.Revision {
				p = &planned{index: index, op: Op{Kind: OpDelete, ID: id, Revision: t.Args.Revision}}
				plans[k] = p
			}
			p.op.Force = p.op.Force || t.Args.Force
		} else {
			index, err := ix.route(r)
			if err != nil {
				errs[i] = err
				continue
			}
			k := key(index, id)
			if p = plans[k]; p == nil {
				p = &planned{index: index}
				if r.Deleted {
					p.op = Op{Kind: OpDelete, ID: id, Revision: r.Revision}
				} else {
					src, err := ix.dumper(ctx, r)
					if err != nil {
						p.err = fmt.Errorf("search: dump record %s: %w", id, err)
					}
					p.op = Op{Kind: OpIndex, ID: id, Revision: r.Revision, Source: src}
				}
				plans[k] = p
			}
			p.op.Force = p.op.Force || t.Args.Force
			// a record routed elsewhere before (t.Args.Index) keeps an
			// orphan there: delete it at the current revision
			if t.Args.Index != "" && t.Args.Index != index {
				ko := key(t.Args.Index, id)
				if plans[ko] == nil {
					plans[ko] = &planned{index: t.Args.Index, op: Op{Kind: OpDelete, ID: id, Revision: r.Revision}}
				}
			}
		}
		taskPlan[i] = p
	}
	// group per index, one bulk request each
	groups := map[string][]*planned{}
	for _, p := range plans {
		if p.err == nil {
			groups[p.index] = append(groups[p.index], p)
		}
	}
	results := map[*planned]error{}
	for index, ps := range groups {
		x, err := ix.indexNamed(ctx, index)
		if err == nil {
			ops := make([]Op, len(ps))
			for j, p := range ps {
				ops[j] = p.op
			}
			var rs []OpResult
			rs, err = x.Bulk(ctx, ops)
			if err == nil {
				for j, r := range rs {
					if r.Status == Failed {
						results[ps[j]] = &ItemError{ID: r.ID, Index: index, Reason: r.Reason, Retryable: r.Retryable}
						ix.log.Warn("index operation failed", "component", "search", "index", index, "id", r.ID, "reason", r.Reason)
					}
				}
				ix.notifyIndexed(ctx, index, ps, results)
				ix.afterBulk(index, ops, rs) // tombstones.go
				continue
			}
		}
		ix.log.Warn("bulk request failed", "component", "search", "index", index, "ops", len(ps), "err", err)
		for _, p := range ps {
			results[p] = fmt.Errorf("search: bulk to %s: %w", index, err)
		}
	}
	// a task is done only when every operation planned for its record is
	for _, p := range plans {
		if p.err != nil {
			results[p] = p.err
		}
	}
	for i, t := range ts {
		p := taskPlan[i]
		if errs[i] != nil || p == nil {
			continue
		}
		errs[i] = results[p]
		if errs[i] == nil && t.Args.Index != "" && t.Args.Index != p.index {
			errs[i] = results[plans[key(t.Args.Index, t.Args.ID)]]
		}
	}
	return errs
}

type tasksTask = tasks.Task[IndexTask]

func newTask(id string) *tasksTask {
	return &tasksTask{Args: IndexTask{ID: id, Op: OpIndex}}
}
