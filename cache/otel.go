package cache

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/repokit/repokit/cache/driver"
	"github.com/repokit/repokit/internal/otelx"
)

var telemetry = otelx.NewScope("github.com/repokit/repokit/cache", "db.client.operation.duration",
	"Duration of cache operations")

// WithTelemetry makes every driver call emit an OpenTelemetry client span
// and a db.client.operation.duration measurement, and counts lookups in
// repokit.cache.lookups with repokit.cache.result = hit or miss, through
// the global providers (no-op unless the host installs an SDK). system is
// the db.system.name ("redis", "memcached", "memory").
func WithTelemetry(system string) Option {
	return func(c *Cache) { c.drv = &otelDriver{Driver: c.drv, system: system} }
}

type otelDriver struct {
	driver.Driver
	system string
}

func (d *otelDriver) start(ctx context.Context, op string) (context.Context, *otelx.Op) {
	return telemetry.Start(ctx, op, trace.SpanKindClient,
		attribute.String("db.system.name", d.system), attribute.String("db.operation.name", op))
}

func (d *otelDriver) lookups(ctx context.Context, hits, misses int) {
	c, err := telemetry.Meter().Int64Counter("repokit.cache.lookups", metric.WithUnit("{lookup}"),
		metric.WithDescription("Cache lookups by result"))
	if err != nil {
		return
	}
	sys := attribute.String("db.system.name", d.system)
	if hits > 0 {
		c.Add(ctx, int64(hits), metric.WithAttributes(sys, attribute.String("repokit.cache.result", "hit")))
	}
	if misses > 0 {
		c.Add(ctx, int64(misses), metric.WithAttributes(sys, attribute.String("repokit.cache.result", "miss")))
	}
}

func (d *otelDriver) Get(ctx context.Context, key string) ([]byte, error) {
	ctx, o := d.start(ctx, "GET")
	v, err := d.Driver.Get(ctx, key)
	hit := err == nil
	o.Set(attribute.Bool("repokit.cache.hit", hit))
	if errors.Is(err, driver.ErrMiss) {
		o.End(ctx, nil)
		d.lookups(ctx, 0, 1)
		return v, err
	}
	o.End(ctx, err)
	if hit {
		d.lookups(ctx, 1, 0)
	}
	return v, err
}

func (d *otelDriver) GetMulti(ctx context.Context, keys []string) (map[string][]byte, error) {
	ctx, o := d.start(ctx, "MGET")
	m, err := d.Driver.GetMulti(ctx, keys)
	o.End(ctx, err)
	if err == nil {
		d.lookups(ctx, len(m), len(keys)-len(m))
	}
	return m, err
}

func (d *otelDriver) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, o := d.start(ctx, "SET")
	err := d.Driver.Set(ctx, key, value, ttl)
	o.End(ctx, err)
	return err
}

func (d *otelDriver) Add(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, o := d.start(ctx, "ADD")
	err := d.Driver.Add(ctx, key, value, ttl)
	if errors.Is(err, driver.ErrNotStored) {
		o.End(ctx, nil)
		return err
	}
	o.End(ctx, err)
	return err
}

func (d *otelDriver) Delete(ctx context.Context, key string) error {
	ctx, o := d.start(ctx, "DELETE")
	err := d.Driver.Delete(ctx, key)
	o.End(ctx, err)
	return err
}

func (d *otelDriver) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	ctx, o := d.start(ctx, "INCR")
	n, err := d.Driver.Incr(ctx, key, delta, ttl)
	o.End(ctx, err)
	return n, err
}
