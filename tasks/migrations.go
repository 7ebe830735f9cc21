package tasks

import (
	"context"
	"io/fs"

	"github.com/jmoiron/sqlx"
)

// Migrations returns the package's SQL migrations (dirs postgres/, mysql/,
// sqlite/) for hosts that run migrations with their own tooling.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // embedded; cannot happen
	}
	return sub
}

// WithoutMigrations makes New skip creating or upgrading the tasks_
// tables (the host runs Migrate or Migrations() itself).
func WithoutMigrations() Option { return func(c *config) { c.skipMigrations = true } }

func migrateUnless(ctx context.Context, db *sqlx.DB, skip bool) error {
	if skip {
		return nil
	}
	return Migrate(ctx, db)
}
