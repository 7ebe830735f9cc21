package cache

import (
	"log/slog"
)

// Option configures a Cache made by New or Open.
type Option func(*Cache)

// WithPrefix prepends prefix to every key of the cache (namespacing several
// applications or components on one server).
func WithPrefix(prefix string) Option { return func(c *Cache) { c.prefix = prefix } }

// WithMaxValueBytes rejects values longer than n bytes with ErrTooLarge before
// they reach the driver (0: only the driver's own limit applies).
func WithMaxValueBytes(n int) Option { return func(c *Cache) { c.maxValue = n } }

// WithCodec sets the codec used by Typed and GetJSON-style helpers when none
// is given explicitly (default JSON).
func WithCodec(codec Codec) Option { return func(c *Cache) { c.codec = codec } }

// WithLogger sets the logger used to report degraded operation (the server
// down while GetOrSet falls back to the loader, failed background refreshes).
func WithLogger(l *slog.Logger) Option { return func(c *Cache) { c.log = l } }
