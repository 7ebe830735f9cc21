// Package otelx is the small shared part of RepoKit's OpenTelemetry
// instrumentation: a span plus a duration histogram per operation, through
// the global providers (no-op unless the host installs an SDK).
package otelx

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/repokit/repokit"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Scope names a package's instrumentation: its tracer, meter and duration
// histogram.
type Scope struct {
	name      string
	histogram string
	unit      string
	desc      string
}

// NewScope returns the scope of package path (the instrumentation scope
// name) recording durations into the histogram metricName (seconds).
func NewScope(path, metricName, desc string) *Scope {
	return &Scope{name: path, histogram: metricName, unit: "s", desc: desc}
}

// Tracer returns the scope's tracer from the global provider.
func (s *Scope) Tracer() trace.Tracer { return otel.Tracer(s.name) }

// Meter returns the scope's meter from the global provider.
func (s *Scope) Meter() metric.Meter { return otel.Meter(s.name) }

// Op is one running operation.
type Op struct {
	s     *Scope
	span  trace.Span
	start time.Time
	attrs []attribute.KeyValue
}

// Start starts a span named name (kind, attrs) and returns the context
// carrying it.
func (s *Scope) Start(ctx context.Context, name string, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, *Op) {
	ctx, span := s.Tracer().Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
	return ctx, &Op{s: s, span: span, start: time.Now(), attrs: attrs}
}

// Set adds attributes to the span and the duration measurement.
func (o *Op) Set(attrs ...attribute.KeyValue) {
	o.span.SetAttributes(attrs...)
	o.attrs = append(o.attrs, attrs...)
}

// End ends the span (error status and error.type when err is not nil) and
// records the duration.
func (o *Op) End(ctx context.Context, err error) {
	attrs := o.attrs
	if err != nil {
		et := attribute.String("error.type", ErrorType(err))
		o.span.SetAttributes(et)
		o.span.RecordError(err)
		o.span.SetStatus(codes.Error, "")
		attrs = append(attrs, et)
	}
	o.span.End()
	h, herr := o.s.Meter().Float64Histogram(o.s.histogram, metric.WithUnit(o.s.unit), metric.WithDescription(o.s.desc))
	if herr == nil {
		h.Record(ctx, time.Since(o.start).Seconds(), metric.WithAttributes(attrs...))
	}
}

// ErrorType is a low-cardinality error.type: the text of the outermost
// sentinel in err's chain (one of the module's sentinels or kinds, such as
// "records: conflict"), else of the innermost errors.New value, else the Go
// type of the innermost error.
func ErrorType(err error) string {
	for {
		if repokit.IsSentinel(err) {
			return err.Error()
		}
		u := errors.Unwrap(err)
		if u == nil {
			if t := fmt.Sprintf("%T", err); t != "*errors.errorString" {
				return t
			}
			return err.Error()
		}
		err = u
	}
}
