package tasks

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/repokit/repokit/internal/otelx"
)

var telemetry = otelx.NewScope("github.com/repokit/repokit/tasks", "messaging.process.duration",
	"Duration of task executions")

// OTelMiddleware returns middleware (WithMiddleware) that runs every task
// execution in an OpenTelemetry consumer span "process <type>" and records
// messaging.process.duration and messaging.client.consumed.messages, with
// the messaging semantic conventions' attributes, through the global
// providers (no-op unless the host installs an SDK).
func OTelMiddleware() Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, j *Job) error {
			attrs := []attribute.KeyValue{
				attribute.String("messaging.system", "repokit_tasks"),
				attribute.String("messaging.operation.type", "process"),
				attribute.String("messaging.operation.name", "process"),
				attribute.String("messaging.destination.name", j.Queue),
				attribute.String("repokit.task.type", j.Type),
			}
			ctx, o := telemetry.Start(ctx, "process "+j.Type, trace.SpanKindConsumer, attrs...)
			o.Set(attribute.String("messaging.message.id", strconv.FormatInt(j.ID, 10)), attribute.Int("repokit.task.attempt", j.Attempt))
			err := next(ctx, j)
			o.End(ctx, err)
			if c, cerr := telemetry.Meter().Int64Counter("messaging.client.consumed.messages", metric.WithUnit("{message}")); cerr == nil {
				c.Add(ctx, 1, metric.WithAttributes(attrs...))
			}
			return err
		}
	}
}
