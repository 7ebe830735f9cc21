package records

import (
	"log/slog"
	"time"

	"github.com/google/uuid"
)

// DefaultMaxSize is the largest document a store accepts unless
// WithMaxSize says otherwise: 10 MiB.
const DefaultMaxSize = 10 << 20

// Option configures a Store.
type Option func(*config)

type config struct {
	maxSize int
	schemas []schemaSource
	logger  *slog.Logger
	now     func() time.Time
	migrate bool
	prepare bool
	// defaultSchema and requireSchema: see schemapolicy.go.
	defaultSchema string
	requireSchema bool
}

type schemaSource struct {
	uri string
	doc []byte
}

// WithMaxSize sets the largest document (in bytes) the store accepts; larger
// ones fail with ErrTooLarge before any SQL runs.
func WithMaxSize(n int) Option { return func(c *config) { c.maxSize = n } }

// WithSchema registers a JSON Schema under uri, as Store.RegisterSchema does.
func WithSchema(uri string, schema []byte) Option {
	return func(c *config) { c.schemas = append(c.schemas, schemaSource{uri, schema}) }
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithClock sets the function that gives the current time (tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithoutMigrations makes New skip running the migrations (when the host
// runs them separately, for example with Migrate).
func WithoutMigrations() Option { return func(c *config) { c.migrate = false } }

// WithoutPreparedStatements makes the store send plain queries instead of
// preparing its hot statements (for connection poolers that cannot keep
// prepared statements, such as PgBouncer in transaction mode before 1.21).
func WithoutPreparedStatements() Option { return func(c *config) { c.prepare = false } }

// GetOption configures Get and GetMany.
type GetOption func(*getConfig)

type getConfig struct{ includeDeleted bool }

// IncludeDeleted makes Get and GetMany return soft-deleted records too.
func IncludeDeleted() GetOption { return func(c *getConfig) { c.includeDeleted = true } }

// CreateOption configures Create.
type CreateOption func(*createConfig)

type createConfig struct{ id uuid.UUID }

// WithID makes Create use id instead of a new UUIDv7. An id that is already
// taken fails with ErrConflict.
func WithID(id uuid.UUID) CreateOption { return func(c *createConfig) { c.id = id } }

// WriteOption configures Delete, Undelete, Revert and Purge.
type WriteOption func(*writeConfig)

type writeConfig struct {
	expected    int64
	hasExpected bool
}

// IfRevision makes the operation fail with ErrConflict unless the record is
// at revision n (optimistic concurrency, like Update's revision argument).
func IfRevision(n int64) WriteOption {
	return func(c *writeConfig) { c.expected, c.hasExpected = n, true }
}

func writeOpts(opts []WriteOption) writeConfig {
	var wc writeConfig
	for _, o := range opts {
		o(&wc)
	}
	return wc
}

func (wc writeConfig) expectedPtr() *int64 {
	if !wc.hasExpected {
		return nil
	}
	return &wc.expected
}
