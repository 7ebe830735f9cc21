// Package sqltx runs functions in retried SQL transactions and runs side
// effects only after a transaction commits.
//
// Every RepoKit package that writes rows (records, records/pid, files,
// tasks, the search indexer's outbox) accepts the host's *sqlx.Tx, so one
// transaction can create a record, mint its PID, create its bucket and
// enqueue its indexing. Side effects that must not happen inside that
// transaction — purging a page cache, sending a notification, poking a
// worker — are registered with AfterCommit: they run once the transaction
// has committed, and never if it rolls back or is retried.
//
//	err := sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
//		rec, err := recs.WithTx(tx).Update(ctx, id, doc, rev)
//		if err != nil {
//			return err
//		}
//		return sqltx.AfterCommit(tx, func(ctx context.Context) {
//			pages.PurgeTags(ctx, "record:"+rec.ID.String())
//		})
//	})
//
// When a package runs an operation in a transaction of its own (no WithTx
// view), the same machinery is used, so a records hook that calls
// AfterCommit works whether or not the host passed a transaction.
//
// Transactions begun with db.BeginTxx directly are unknown to this package:
// AfterCommit refuses them with ErrUnmanagedTx rather than silently never
// running the function. Begin them with Begin (and end them with Commit or
// Rollback), or use InTx.
package sqltx

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// MaxAttempts is how many times InTx runs a function whose transaction hit
// a serialization failure, a deadlock or a busy database.
const MaxAttempts = sqldb.MaxTxAttempts

// ErrUnmanagedTx is returned by AfterCommit for a transaction that was not
// begun by Begin or InTx.
var ErrUnmanagedTx = sqldb.ErrUnmanagedTx

// InTx runs fn in a new transaction on db and commits it if fn returns nil,
// rolling it back otherwise. When the database reports a transient
// concurrency failure (PostgreSQL serialization failure or deadlock, MySQL
// deadlock or lock wait timeout, SQLite busy) the whole function runs again,
// up to MaxAttempts times with jittered backoff, so fn must not have side
// effects outside tx: register those with AfterCommit. After a successful
// commit the functions given to AfterCommit run in order.
func InTx(ctx context.Context, db *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	return sqldb.InTx(ctx, db, nil, fn)
}

// Begin begins a transaction that AfterCommit accepts. End it with Commit
// or Rollback of this package. Prefer InTx, which also retries.
func Begin(ctx context.Context, db *sqlx.DB, opts *sql.TxOptions) (*sqlx.Tx, error) {
	return sqldb.Begin(ctx, db, opts)
}

// Commit commits tx and, if that succeeded, runs the functions given to
// AfterCommit in the order they were added. They get a context that carries
// the values of Begin's context but is never canceled.
func Commit(tx *sqlx.Tx) error { return sqldb.Commit(tx) }

// Rollback rolls tx back and drops its after-commit functions.
func Rollback(tx *sqlx.Tx) error { return sqldb.Rollback(tx) }

// AfterCommit arranges for fn to run after tx commits, and never if it rolls
// back. tx must come from Begin or InTx (including the transactions RepoKit
// packages open themselves); otherwise it returns ErrUnmanagedTx.
func AfterCommit(tx *sqlx.Tx, fn func(ctx context.Context)) error {
	return sqldb.AfterCommit(tx, fn)
}

// Managed reports whether AfterCommit accepts tx.
func Managed(tx *sqlx.Tx) bool { return sqldb.Managed(tx) }

// IsRetryable reports whether err is a transient concurrency failure after
// which the whole transaction can run again.
func IsRetryable(err error) bool { return sqldb.IsRetryable(err) }
