package search

import (
	"context"
	"encoding/json"
)

// Driver is what an engine implements. Index names passed to a driver are
// full names (prefix included). Drivers must be safe for concurrent use.
// Application code uses [Engine] and [Index] instead.
type Driver interface {
	// CreateIndex creates a concrete index; ErrExists if it exists.
	CreateIndex(ctx context.Context, name string, def Definition) error
	// DeleteIndex deletes a concrete index; ErrNotFound if missing.
	DeleteIndex(ctx context.Context, name string) error
	// Exists reports whether an index or alias of that name exists.
	Exists(ctx context.Context, name string) (bool, error)
	// PutMapping applies an (already checked additive) definition to a
	// concrete index.
	PutMapping(ctx context.Context, name string, def Definition) error
	// Definition returns the definition of an index or alias (of its first
	// concrete index).
	Definition(ctx context.Context, name string) (Definition, error)
	// Resolve returns the concrete indices behind an alias; ErrNotFound if
	// there is no such alias.
	Resolve(ctx context.Context, alias string) ([]string, error)
	// SwitchAlias atomically points alias at add only, removing every other
	// index from it.
	SwitchAlias(ctx context.Context, alias, add string) error
	// Bulk applies ops in order with external_gte versions and returns one
	// result per op. The error is for a failure of the whole request only.
	Bulk(ctx context.Context, index string, ops []Op, refresh bool) ([]OpResult, error)
	// Refresh makes all writes visible to searches.
	Refresh(ctx context.Context, index string) error
	// Search runs one search.
	Search(ctx context.Context, index string, s *Spec) (*Results, error)
	// Refs returns up to n (id, revision) pairs of live documents with id >
	// after, ordered by id.
	Refs(ctx context.Context, index string, after string, n int) ([]DocRef, error)
	// Close releases resources.
	Close() error
}

// PITDriver is implemented by drivers with point-in-time searches.
type PITDriver interface {
	OpenPIT(ctx context.Context, index string, keepAlive string) (string, error)
	ClosePIT(ctx context.Context, id string) error
}

// ForceDriver is implemented by drivers that can honour Op.Force in place
// (overwrite a document holding a higher revision). Without it, an index
// that is ahead of the database is repaired by rebuilding it into a fresh
// concrete index ([Indexer.RebuildFresh]).
type ForceDriver interface {
	CanForce() bool
}

// OpKind is the kind of a write operation.
type OpKind string

// Operation kinds.
const (
	OpIndex  OpKind = "index"
	OpDelete OpKind = "delete"
)

// Op is one write: index Source as document ID at Revision, or delete ID at
// Revision (a tombstone with that revision).
type Op struct {
	Kind     OpKind
	ID       string
	Revision int64
	Source   json.RawMessage
	// Force writes even when the index holds a newer revision (drift
	// repair after the database was restored from a backup). Drivers that
	// cannot force a lower version refuse it with ErrUnsupported.
	Force bool
}

// Status is the outcome of one Op.
type Status int

// Op outcomes.
const (
	// Applied: the engine wrote the operation.
	Applied Status = iota
	// Stale: the engine holds an equal or newer revision; nothing was written
	// (a success: the index already reflects this revision or a newer one).
	Stale
	// Failed: the operation was rejected (Reason says why); retrying may help
	// if Retryable.
	Failed
)

// String returns applied, stale or failed.
func (s Status) String() string {
	switch s {
	case Applied:
		return "applied"
	case Stale:
		return "stale"
	}
	return "failed"
}

// OpResult is the per-item result of a bulk request.
type OpResult struct {
	ID        string
	Status    Status
	Reason    string // for Failed
	Retryable bool   // for Failed: a transient engine error (429, 5xx)
}

// Spec is a compiled search for a driver.
type Spec struct {
	Query      Query
	PostFilter Query // applied to hits only, not to facets (nil = none)
	Facets     []FacetSpec
	Sort       []SortField // always ends with the _id tie-breaker
	From, Size int
	After      []json.RawMessage // search_after values (opaque, from Hit.Sort)
	PIT        string            // point-in-time id (OpenSearch)
	KeepAlive  string
	// TrackTotal asks for an exact total.
	TrackTotal bool
	// Aggs are aggregations over the documents matching Query (see [Agg]).
	Aggs []Agg
	// Binding fingerprints the sort option and query a cursor of this
	// search is valid for (set by Searcher; drivers ignore it).
	Binding string
}

// FacetSpec is a terms facet computed over the query results restricted by
// Filter (the other facets' filters), optionally with a sub-facet per bucket.
type FacetSpec struct {
	Name   string
	Field  string
	Size   int
	Filter Query // nil = none
	Sub    *FacetSpec
}

// SortField sorts by a field path, or by "_score" or "_id".
type SortField struct {
	Field string `json:"field"`
	Desc  bool   `json:"desc,omitempty"`
	// Near sorts a geo_point Field by arc distance from this point (the
	// sort value is the distance in meters).
	Near *Point `json:"near,omitempty"`
}

// DocRef is a document id with its revision.
type DocRef struct {
	ID       string
	Revision int64
}

// Results of a search.
type Results struct {
	Total  int64
	Hits   []Hit
	Facets map[string]*FacetResult
	// Next is a cursor for the page after the last hit (search_after),
	// empty when there are no hits.
	Next string
	// PIT is the point-in-time id used (OpenSearch), if any.
	PIT string
	// Aggs holds the results of Spec.Aggs by name.
	Aggs map[string]*AggResult
}

// Hit is one result document.
type Hit struct {
	ID       string
	Revision int64
	Score    float64
	Source   json.RawMessage
	Sort     []json.RawMessage
}

// FacetResult lists the buckets of one facet.
type FacetResult struct {
	Buckets []Bucket
}

// Bucket is one facet value with its document count.
type Bucket struct {
	Key   string
	Count int64
	Sub   *FacetResult // hierarchical facets
}
