// Package sqldb is RepoKit's shared SQL layer: it opens a database from a URL,
// knows its dialect, runs each package's versioned migrations under a lock,
// and runs functions in transactions, retrying serialization failures.
//
// Packages (records, files, tasks) accept a caller's *sqlx.DB and *sqlx.Tx;
// this package only helps them do so consistently.
package sqldb

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// Dialect names the SQL flavour behind a *sqlx.DB.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	MySQL    Dialect = "mysql"
	SQLite   Dialect = "sqlite"
)

// DialectOf reports the dialect of a database handle or transaction from its
// driver name ("postgres", "pgx", "mysql", "sqlite3", "sqlite").
func DialectOf(x interface{ DriverName() string }) (Dialect, error) {
	return DialectOfDriver(x.DriverName())
}

// DialectOfDriver maps a database/sql driver name to its dialect.
func DialectOfDriver(name string) (Dialect, error) {
	switch strings.ToLower(name) {
	case "postgres", "pgx", "pgx/v5", "postgresql", "cloudsqlpostgres":
		return Postgres, nil
	case "mysql":
		return MySQL, nil
	case "sqlite3", "sqlite":
		return SQLite, nil
	}
	return "", fmt.Errorf("sqldb: unsupported driver %q (want postgres, mysql or sqlite3)", name)
}

// Querier is what both *sqlx.DB and *sqlx.Tx offer; code that works either
// inside or outside a caller's transaction takes a Querier.
type Querier interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

var (
	_ Querier = (*sqlx.DB)(nil)
	_ Querier = (*sqlx.Tx)(nil)
)
