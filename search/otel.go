package search

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/repokit/repokit/internal/otelx"
)

var telemetry = otelx.NewScope("github.com/repokit/repokit/search", "db.client.operation.duration",
	"Duration of search requests")

// InstrumentedSearcher is a Searcher whose Search emits an OpenTelemetry
// client span "search <index>" and a db.client.operation.duration
// measurement (db.operation.name "search", db.collection.name the index,
// db.response.returned_rows), through the global providers (no-op unless
// the host installs an SDK).
type InstrumentedSearcher struct{ *Searcher }

// Instrument returns s with OpenTelemetry instrumentation.
func Instrument(s *Searcher) *InstrumentedSearcher { return &InstrumentedSearcher{s} }

// Search is Searcher.Search, instrumented.
func (s *InstrumentedSearcher) Search(ctx context.Context, r *Request) (*Results, error) {
	ctx, o := telemetry.Start(ctx, "search "+s.ix.Name(), trace.SpanKindClient,
		attribute.String("db.operation.name", "search"), attribute.String("db.collection.name", s.ix.Name()))
	res, err := s.Searcher.Search(ctx, r)
	if res != nil {
		o.Set(attribute.Int("db.response.returned_rows", len(res.Hits)))
	}
	o.End(ctx, err)
	return res, err
}
