package records

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/repokit/repokit/internal/otelx"
	"github.com/repokit/repokit/internal/sqldb"
)

var telemetry = otelx.NewScope("github.com/repokit/repokit/records", "db.client.operation.duration",
	"Duration of record operations")

// InstrumentedStore is a Store whose record operations (Create, Get,
// Update, Delete, Undelete, Purge) emit an OpenTelemetry span and a
// db.client.operation.duration measurement, through the global providers
// (no-op unless the host installs an SDK). Other methods are the Store's.
type InstrumentedStore struct{ *Store }

// Instrument returns s with OpenTelemetry instrumentation.
func Instrument(s *Store) *InstrumentedStore { return &InstrumentedStore{s} }

func (s *InstrumentedStore) start(ctx context.Context, op Op, id uuid.UUID) (context.Context, *otelx.Op) {
	attrs := []attribute.KeyValue{
		attribute.String("db.system.name", dbSystem(s.c.d)),
		attribute.String("db.operation.name", string(op)),
		attribute.String("db.collection.name", "records_metadata"),
	}
	ctx, o := telemetry.Start(ctx, string(op)+" records", trace.SpanKindClient, attrs...)
	if id != uuid.Nil {
		o.Set(attribute.String("repokit.record.id", id.String()))
	}
	return ctx, o
}

// Create is Store.Create, instrumented.
func (s *InstrumentedStore) Create(ctx context.Context, doc json.RawMessage, opts ...CreateOption) (*Record, error) {
	ctx, o := s.start(ctx, OpCreate, uuid.Nil)
	r, err := s.Store.Create(ctx, doc, opts...)
	if r != nil {
		o.Set(attribute.String("repokit.record.id", r.ID.String()))
	}
	o.End(ctx, err)
	return r, err
}

// Get is Store.Get, instrumented.
func (s *InstrumentedStore) Get(ctx context.Context, id uuid.UUID, opts ...GetOption) (*Record, error) {
	ctx, o := s.start(ctx, "get", id)
	r, err := s.Store.Get(ctx, id, opts...)
	o.End(ctx, err)
	return r, err
}

// Update is Store.Update, instrumented.
func (s *InstrumentedStore) Update(ctx context.Context, id uuid.UUID, doc json.RawMessage, revision int64) (*Record, error) {
	ctx, o := s.start(ctx, OpUpdate, id)
	r, err := s.Store.Update(ctx, id, doc, revision)
	o.End(ctx, err)
	return r, err
}

// Delete is Store.Delete, instrumented.
func (s *InstrumentedStore) Delete(ctx context.Context, id uuid.UUID, opts ...WriteOption) (*Record, error) {
	ctx, o := s.start(ctx, OpDelete, id)
	r, err := s.Store.Delete(ctx, id, opts...)
	o.End(ctx, err)
	return r, err
}

// Undelete is Store.Undelete, instrumented.
func (s *InstrumentedStore) Undelete(ctx context.Context, id uuid.UUID, opts ...WriteOption) (*Record, error) {
	ctx, o := s.start(ctx, OpUndelete, id)
	r, err := s.Store.Undelete(ctx, id, opts...)
	o.End(ctx, err)
	return r, err
}

// Purge is Store.Purge, instrumented.
func (s *InstrumentedStore) Purge(ctx context.Context, id uuid.UUID, opts ...WriteOption) error {
	ctx, o := s.start(ctx, OpPurge, id)
	err := s.Store.Purge(ctx, id, opts...)
	o.End(ctx, err)
	return err
}

// dbSystem is the semantic conventions' db.system.name of a dialect.
func dbSystem(d sqldb.Dialect) string {
	if d == sqldb.Postgres {
		return "postgresql"
	}
	return string(d) // "mysql", "sqlite"
}
