// Package blevesearch is the embedded search driver over
// github.com/blevesearch/bleve/v2, registered for URLs
//
//	bleve:///abs/path/dir[?prefix=app-][&sync=false][&shards=N]
//
// Writes return once bleve has persisted them (its persisted callback), so
// that an acknowledged index operation survives a crash; sync=false returns
// as soon as they are searchable (faster, for throw-away indices).
// shards=N (default 1) creates new indices as N bleve indices, documents
// routed by a hash of their id and searched in parallel (merged hits,
// totals, sorting, cursors, facets and aggregations). This pays only where
// cores are idle during a search (see docs/scale.md).
// Existing indices keep the number of shards they were created with.
//
// Each concrete index is a bleve index in <dir>/<name>; aliases live in
// <dir>/manifest.json (bleve has none) and reads through an alias use a
// bleve IndexAlias. Revisions (external versions) are a doc-values field of
// every document, and a delete leaves a tombstone document with its revision
// (excluded from every search), both written in the same bleve batch as the
// change and checked holding a lock on the ids written (batches of other
// documents are applied concurrently), so the external_gte rule of
// OpenSearch holds. Tombstones carry the time they were written and are
// deleted by PurgeTombstones once no older write can arrive (the outbox
// indexer calls it, see search.Indexer); while an index holds none, searches
// skip the tombstone exclusion.
package blevesearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/util"

	"github.com/repokit/repokit/internal/localpath"
	"github.com/repokit/repokit/search"
)

// Scheme is the URL scheme of this driver.
const Scheme = "bleve"

func init() {
	search.Register(func(ctx context.Context, u *url.URL) (search.Driver, error) {
		// bleve:///abs/dir, bleve:////abs/dir and bleve://rel/dir (relative
		// to the working directory, as sqlite://rel.db) all work.
		dir, err := localpath.FromURL(u)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", search.ErrInvalid, err)
		}
		d, err := New(ctx, dir)
		if err != nil {
			return nil, err
		}
		if v := u.Query().Get("shards"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 64 {
				return nil, fmt.Errorf("%w: shards=%q (a number from 1 to 64)", search.ErrInvalid, v)
			}
			d.shards = n
		}
		if v := u.Query().Get("sync"); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("%w: sync=%q", search.ErrInvalid, v)
			}
			d.noSync = !on
		}
		return d, nil
	}, Scheme)
}

// Driver is the bleve search driver.
type Driver struct {
	noSync bool // sync=false: acknowledge writes before they are on disk
	shards int  // shards of new indices (0 or 1: one bleve index)
	root   string
	mu     sync.Mutex // guards man, open, closed
	man    *manifest
	open   map[string]*bidx
	closed bool

	// multiPass turns the one-pass search off (tests and benchmarks
	// compare the two paths)
	multiPass bool
}

type bidx struct {
	name string
	// mu: writes (version checks + batch) hold it shared and lock the ids
	// they write (ids), so that batches of different documents are applied
	// concurrently; whatever needs no write in flight (purge, mapping
	// update, close) holds it exclusively
	mu     sync.RWMutex
	ids    idLocks
	rw     sync.RWMutex            // searches hold it shared; close/reopen exclusive
	idx    bleve.Index             // for searches: the only shard or an alias over them
	shards []*shard                // replaced (reopened) holding mu and rw
	fields map[string]search.Field // guarded by mu
}

func newBidx(name string, ss []*shard, fields map[string]search.Field) *bidx {
	return &bidx{name: name, idx: searchIndex(name, ss), shards: ss, fields: fields}
}

// New opens (creating if needed) a bleve search root directory; wrap it
// with search.New, or open both with search.Open("bleve://...").
func New(ctx context.Context, dir string) (*Driver, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("blevesearch: %w", err)
	}
	m, err := loadManifest(dir)
	if err != nil {
		return nil, err
	}
	return &Driver{root: dir, man: m, open: map[string]*bidx{}}, nil
}

var _ search.Driver = (*Driver)(nil)

func (d *Driver) path(name string) string { return filepath.Join(d.root, name) }

// get returns the open concrete index, opening it if needed. d.mu held.
func (d *Driver) getLocked(name string) (*bidx, error) {
	if d.closed {
		return nil, search.ErrClosed
	}
	if b, ok := d.open[name]; ok {
		return b, nil
	}
	if _, ok := d.man.Indices[name]; !ok {
		return nil, fmt.Errorf("%w: index %s", search.ErrNotFound, name)
	}
	fm, err := d.man.Indices[name].FieldMap()
	if err != nil {
		return nil, err
	}
	ss, err := openShards(d.path(name), d.man.Shards[name])
	if err != nil {
		return nil, fmt.Errorf("blevesearch: open %s: %w", name, err)
	}
	b := newBidx(name, ss, fm)
	d.open[name] = b
	return b, nil
}

// resolveLocked maps an alias or concrete name to concrete names.
func (d *Driver) resolveLocked(name string) ([]string, error) {
	if cs, ok := d.man.Aliases[name]; ok {
		return cs, nil
	}
	if _, ok := d.man.Indices[name]; ok {
		return []string{name}, nil
	}
	return nil, fmt.Errorf("%w: index %s", search.ErrNotFound, name)
}

// targets returns the open concrete indices behind name.
func (d *Driver) targets(name string) ([]*bidx, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, search.ErrClosed
	}
	cs, err := d.resolveLocked(name)
	if err != nil {
		return nil, err
	}
	out := make([]*bidx, 0, len(cs))
	for _, c := range cs {
		b, err := d.getLocked(c)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// CreateIndex implements search.Driver.
func (d *Driver) CreateIndex(ctx context.Context, name string, def search.Definition) error {
	im, err := Mapping(def)
	if err != nil {
		return err
	}
	fm, err := def.FieldMap()
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return search.ErrClosed
	}
	if _, ok := d.man.Indices[name]; ok {
		return fmt.Errorf("%w: index %s", search.ErrExists, name)
	}
	if _, ok := d.man.Aliases[name]; ok {
		return fmt.Errorf("%w: alias %s", search.ErrExists, name)
	}
	_ = os.RemoveAll(d.path(name)) // leftovers of a crash before the manifest was saved
	ss, err := createShards(d.path(name), d.shards, im)
	if err != nil {
		os.RemoveAll(d.path(name))
		return fmt.Errorf("blevesearch: create %s: %w", name, err)
	}
	m := d.man.clone()
	m.Indices[name] = def
	if d.shards > 1 {
		m.Shards[name] = d.shards
	}
	if err := m.save(d.root); err != nil {
		closeShards(ss)
		os.RemoveAll(d.path(name))
		return err
	}
	d.man = m
	d.open[name] = newBidx(name, ss, fm)
	return nil
}

// DeleteIndex implements search.Driver.
func (d *Driver) DeleteIndex(ctx context.Context, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return search.ErrClosed
	}
	if _, ok := d.man.Indices[name]; !ok {
		return fmt.Errorf("%w: index %s", search.ErrNotFound, name)
	}
	m := d.man.clone()
	delete(m.Indices, name)
	delete(m.Shards, name)
	for a, cs := range m.Aliases {
		var keep []string
		for _, c := range cs {
			if c != name {
				keep = append(keep, c)
			}
		}
		if len(keep) == 0 {
			delete(m.Aliases, a)
		} else {
			m.Aliases[a] = keep
		}
	}
	if err := m.save(d.root); err != nil {
		return err
	}
	d.man = m
	if b, ok := d.open[name]; ok {
		b.mu.Lock()
		b.rw.Lock()
		closeShards(b.shards)
		b.rw.Unlock()
		b.mu.Unlock()
		delete(d.open, name)
	}
	return os.RemoveAll(d.path(name))
}

// Exists implements search.Driver.
func (d *Driver) Exists(ctx context.Context, name string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false, search.ErrClosed
	}
	_, ok := d.man.Indices[name]
	_, ok2 := d.man.Aliases[name]
	return ok || ok2, nil
}

// Resolve implements search.Driver.
func (d *Driver) Resolve(ctx context.Context, alias string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, search.ErrClosed
	}
	cs, ok := d.man.Aliases[alias]
	if !ok {
		return nil, fmt.Errorf("%w: alias %s", search.ErrNotFound, alias)
	}
	return append([]string(nil), cs...), nil
}

// SwitchAlias implements search.Driver.
func (d *Driver) SwitchAlias(ctx context.Context, alias, add string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return search.ErrClosed
	}
	if _, ok := d.man.Indices[add]; !ok {
		return fmt.Errorf("%w: index %s", search.ErrNotFound, add)
	}
	if _, ok := d.man.Indices[alias]; ok {
		return fmt.Errorf("%w: %s is an index, not an alias", search.ErrExists, alias)
	}
	m := d.man.clone()
	m.Aliases[alias] = []string{add}
	if err := m.save(d.root); err != nil {
		return err
	}
	d.man = m
	return nil
}

// Definition implements search.Driver.
func (d *Driver) Definition(ctx context.Context, name string) (search.Definition, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cs, err := d.resolveLocked(name)
	if err != nil {
		return search.Definition{}, err
	}
	return d.man.Indices[cs[0]], nil
}

// PutMapping implements search.Driver. bleve refuses new fields through its
// updated_mapping option, but an additive change needs no change to existing
// segments: the new mapping is stored under bleve's own mapping key and the
// index reopened, which makes bleve use it for later documents. Existing
// documents are not re-analysed (as in OpenSearch): reindex to index old
// documents under new fields.
func (d *Driver) PutMapping(ctx context.Context, name string, def search.Definition) error {
	im, err := Mapping(def)
	if err != nil {
		return err
	}
	fm, err := def.FieldMap()
	if err != nil {
		return err
	}
	if err := im.Validate(); err != nil {
		return fmt.Errorf("%w: bleve mapping: %v", search.ErrInvalid, err)
	}
	mb, err := json.Marshal(im)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	b, err := d.getLocked(name)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rw.Lock()
	defer b.rw.Unlock()
	for _, s := range b.shards {
		if err := s.idx.SetInternal(util.MappingInternalKey, mb); err != nil {
			return fmt.Errorf("blevesearch: store mapping: %w", err)
		}
	}
	if err := closeShards(b.shards); err != nil {
		return err
	}
	ss, err := openShards(d.path(name), d.man.Shards[name])
	if err != nil {
		delete(d.open, name)
		return fmt.Errorf("blevesearch: reopen %s after mapping update: %w", name, err)
	}
	b.idx, b.shards, b.fields = searchIndex(name, ss), ss, fm
	m := d.man.clone()
	m.Indices[name] = def
	if err := m.save(d.root); err != nil {
		return err
	}
	d.man = m
	return nil
}

// Refresh implements search.Driver. bleve makes a batch searchable when
// Batch returns, so there is nothing to do.
func (d *Driver) Refresh(ctx context.Context, name string) error {
	_, err := d.targets(name)
	return err
}

// Close closes every open index.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	var errs []error
	for _, b := range d.open {
		b.mu.Lock()
		b.rw.Lock()
		errs = append(errs, closeShards(b.shards))
		b.rw.Unlock()
		b.mu.Unlock()
	}
	d.open = nil
	return errors.Join(errs...)
}
