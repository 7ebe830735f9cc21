package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// MaxTxAttempts is how many times InTx runs a function whose transaction hit
// a serialization failure, a deadlock or a busy database.
const MaxTxAttempts = 8

// InTx runs fn in a transaction. If tx is not nil, fn runs in the caller's
// transaction (which the caller commits or rolls back) and is not retried.
// Otherwise InTx begins a transaction on db, commits it if fn returns nil,
// rolls it back otherwise, and retries the whole function when the database
// reports a retryable failure (serialization failure, deadlock, lock
// timeout, SQLITE_BUSY). Functions given to AfterCommit inside fn run
// after the commit; those of a rolled-back or retried attempt never run.
func InTx(ctx context.Context, db *sqlx.DB, tx *sqlx.Tx, fn func(tx *sqlx.Tx) error) error {
	if tx != nil {
		return fn(tx)
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = runOnce(ctx, db, fn)
		if err == nil || !IsRetryable(err) || attempt >= MaxTxAttempts || ctx.Err() != nil {
			return err
		}
		// Exponential backoff with full jitter, capped at 100ms.
		backoff := time.Duration(1<<min(attempt, 7)) * time.Millisecond
		t := time.NewTimer(time.Duration(rand.Int64N(int64(backoff))) + time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func runOnce(ctx context.Context, db *sqlx.DB, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := Begin(ctx, db, nil)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = Rollback(tx)
			panic(p)
		}
		if err != nil {
			_ = Rollback(tx)
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return Commit(tx)
}

// IsRetryable reports whether err is a transient concurrency failure after
// which the whole transaction can be run again.
func IsRetryable(err error) bool {
	switch sqlState(err) {
	case "40001", "40P01", "55P03": // serialization_failure, deadlock_detected, lock_not_available
		return true
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		switch myErr.Number {
		case 1213, 1205: // deadlock, lock wait timeout
			return true
		}
	}
	var liteErr sqlite3.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code == sqlite3.ErrBusy || liteErr.Code == sqlite3.ErrLocked
	}
	return false
}

// sqlState returns the PostgreSQL SQLSTATE of err, from lib/pq's *pq.Error
// or pgx's *pgconn.PgError (a host may open its *sqlx.DB with either
// driver), or "".
func sqlState(err error) string {
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		return st.SQLState()
	}
	return ""
}

// IsUniqueViolation reports whether err is a unique or primary key violation.
func IsUniqueViolation(err error) bool {
	if st := sqlState(err); st != "" {
		return st == "23505"
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Number == 1062
	}
	var liteErr sqlite3.Error
	if errors.As(err, &liteErr) {
		return liteErr.ExtendedCode == sqlite3.ErrConstraintUnique || liteErr.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return false
}

// IsNoRows reports whether err is sql.ErrNoRows.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// In expands a query with one "IN (?)" over a slice and rebinds it for the
// handle's dialect.
func In(q sqlx.ExtContext, query string, args ...any) (string, []any, error) {
	query, args, err := sqlx.In(query, args...)
	if err != nil {
		return "", nil, err
	}
	return q.Rebind(query), args, nil
}

// SkipLocked returns " FOR UPDATE SKIP LOCKED" on PostgreSQL and MySQL 8 /
// MariaDB 10.6+, and "" on SQLite, whose writers are serialized anyway.
func SkipLocked(d Dialect) string {
	if d == SQLite {
		return ""
	}
	return " FOR UPDATE SKIP LOCKED"
}

// ForUpdate returns " FOR UPDATE" except on SQLite.
func ForUpdate(d Dialect) string {
	if d == SQLite {
		return ""
	}
	return " FOR UPDATE"
}

// QuoteIdent quotes an identifier for the dialect.
func QuoteIdent(d Dialect, name string) string {
	if d == MySQL {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
