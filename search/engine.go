package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Engine is a search engine holding the indices of one application (those
// under its prefix).
type Engine struct {
	drv    Driver
	prefix string
	log    *slog.Logger
	now    func() time.Time
	holds  holds // tombstones.go: reindexes in progress

	closeOnce sync.Once
	closeErr  error
}

// Option configures an Engine (New, Open).
type Option interface{ applyEngine(*Engine) }

type engineOption func(*Engine)

func (f engineOption) applyEngine(e *Engine) { f(e) }

// WithPrefix sets the index prefix of the application, e.g. "myapp-".
func WithPrefix(p string) Option {
	return engineOption(func(e *Engine) {
		if p != "" {
			e.prefix = p
		}
	})
}

// LoggerOption is what WithLogger returns: both an Option (New, Open) and an
// IndexerOption (NewIndexer), so one spelling sets the logger of either.
type LoggerOption struct{ l *slog.Logger }

func (o LoggerOption) applyEngine(e *Engine) {
	if o.l != nil {
		e.log = o.l
	}
}

func (o LoggerOption) applyIndexer(c *indexerConfig) {
	if o.l != nil {
		c.log = o.l
	}
}

// WithLogger sets the logger of an Engine (New, Open) or of an Indexer
// (NewIndexer); default slog.Default().
func WithLogger(l *slog.Logger) LoggerOption { return LoggerOption{l: l} }

// New returns an engine on driver d (usually opened by a driver package,
// or use Open with a URL). It fails with ErrInvalid if d is nil. Close
// closes d.
func New(ctx context.Context, d Driver, opts ...Option) (*Engine, error) {
	if d == nil {
		return nil, fmt.Errorf("%w: nil driver", ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e := &Engine{drv: d, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		if o != nil {
			o.applyEngine(e)
		}
	}
	return e, nil
}

// Driver returns the underlying driver (for drivers' own extensions).
func (e *Engine) Driver() Driver { return e.drv }

// Prefix returns the application index prefix.
func (e *Engine) Prefix() string { return e.prefix }

// Close closes the driver. It is idempotent: later calls return the first
// call's result.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.drv.Close() })
	return e.closeErr
}

func validName(name string) error {
	if name == "" || strings.ContainsAny(name, `/\*?"<>| ,#:`) || strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") || name != strings.ToLower(name) {
		return fmt.Errorf("%w: index name %q (lowercase, no / \\ * ? \" < > | , # : space, not starting with _ or .)", ErrInvalid, name)
	}
	return nil
}

// concreteName returns a fresh timestamped concrete index name, distinct from
// existing ones.
func (e *Engine) concreteName(ctx context.Context, alias string) (string, error) {
	ts := e.now().Unix()
	for i := 0; i < 1000; i++ {
		n := alias + "-" + strconv.FormatInt(ts+int64(i), 10)
		ok, err := e.drv.Exists(ctx, n)
		if err != nil {
			return "", err
		}
		if !ok {
			return n, nil
		}
	}
	return "", fmt.Errorf("%w: no free concrete name for %s", ErrExists, alias)
}

// CreateIndex creates index name: a concrete index <prefix><name>-<unixts>
// with the definition and the write alias <prefix><name> over it. ErrExists
// if the alias exists.
func (e *Engine) CreateIndex(ctx context.Context, name string, def Definition) (*Index, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if _, err := def.Fields(); err != nil {
		return nil, err
	}
	alias := e.prefix + name
	if ok, err := e.drv.Exists(ctx, alias); err != nil {
		return nil, err
	} else if ok {
		return nil, fmt.Errorf("%w: index %s", ErrExists, alias)
	}
	concrete, err := e.concreteName(ctx, alias)
	if err != nil {
		return nil, err
	}
	if err := e.drv.CreateIndex(ctx, concrete, def); err != nil {
		return nil, err
	}
	if err := e.drv.SwitchAlias(ctx, alias, concrete); err != nil {
		_ = e.drv.DeleteIndex(ctx, concrete)
		return nil, err
	}
	return e.newIndex(name, def)
}

// OpenIndex returns an existing index; ErrNotFound if it does not exist.
func (e *Engine) OpenIndex(ctx context.Context, name string) (*Index, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	def, err := e.drv.Definition(ctx, e.prefix+name)
	if err != nil {
		return nil, err
	}
	return e.newIndex(name, def)
}

// EnsureIndex opens index name, creating it with def if it does not exist.
func (e *Engine) EnsureIndex(ctx context.Context, name string, def Definition) (*Index, error) {
	ix, err := e.OpenIndex(ctx, name)
	if errors.Is(err, ErrNotFound) {
		ix, err = e.CreateIndex(ctx, name, def)
		if errors.Is(err, ErrExists) { // lost a race
			return e.OpenIndex(ctx, name)
		}
	}
	return ix, err
}

// IndexExists reports whether index name exists.
func (e *Engine) IndexExists(ctx context.Context, name string) (bool, error) {
	if err := validName(name); err != nil {
		return false, err
	}
	return e.drv.Exists(ctx, e.prefix+name)
}

// DeleteIndex deletes index name: every concrete index behind its alias.
func (e *Engine) DeleteIndex(ctx context.Context, name string) error {
	if err := validName(name); err != nil {
		return err
	}
	cs, err := e.drv.Resolve(ctx, e.prefix+name)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := e.drv.DeleteIndex(ctx, c); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

func (e *Engine) newIndex(name string, def Definition) (*Index, error) {
	fm, err := def.FieldMap()
	if err != nil {
		return nil, err
	}
	return &Index{e: e, name: name, alias: e.prefix + name, def: def, fields: fm}, nil
}
