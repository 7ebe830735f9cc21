package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// ErrUnmanagedTx is returned by AfterCommit for a transaction that was not
// begun by Begin or InTx: nothing would run its hooks at commit.
var ErrUnmanagedTx = errors.New("sqldb: transaction was not begun by sqltx.Begin or sqltx.InTx, so nothing runs its after-commit hooks")

// txState is what a managed transaction carries until it ends.
type txState struct {
	ctx   context.Context
	mu    sync.Mutex
	hooks []func(context.Context)
}

// managed maps each transaction begun by Begin (and not yet ended) to its
// hooks. It is keyed by pointer and every entry is removed by Commit or
// Rollback, like database/sql's registry of drivers it is process-wide
// bookkeeping, not configuration.
var managed sync.Map // *sqlx.Tx -> *txState

// Begin begins a transaction whose after-commit hooks (AfterCommit) run when
// it is ended by Commit; Rollback drops them. End it with Commit or
// Rollback of this package, never with tx.Commit directly.
func Begin(ctx context.Context, db *sqlx.DB, opts *sql.TxOptions) (*sqlx.Tx, error) {
	tx, err := db.BeginTxx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("sqldb: begin: %w", err)
	}
	managed.Store(tx, &txState{ctx: context.WithoutCancel(ctx)})
	return tx, nil
}

// Commit commits tx and, if the commit succeeded, runs its after-commit
// hooks in the order they were added.
func Commit(tx *sqlx.Tx) error {
	v, _ := managed.LoadAndDelete(tx)
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqldb: commit: %w", err)
	}
	if st, ok := v.(*txState); ok {
		st.mu.Lock()
		hooks := st.hooks
		st.hooks = nil
		st.mu.Unlock()
		for _, h := range hooks {
			h(st.ctx)
		}
	}
	return nil
}

// Rollback rolls tx back and drops its after-commit hooks.
func Rollback(tx *sqlx.Tx) error {
	managed.Delete(tx)
	return tx.Rollback()
}

// AfterCommit arranges for fn to run after tx commits (and never if it
// rolls back, or if InTx retries it). tx must have been begun by Begin or
// InTx; otherwise AfterCommit returns ErrUnmanagedTx and fn never runs.
func AfterCommit(tx *sqlx.Tx, fn func(ctx context.Context)) error {
	if tx == nil || fn == nil {
		return fmt.Errorf("sqldb: AfterCommit needs a transaction and a function")
	}
	v, ok := managed.Load(tx)
	if !ok {
		return ErrUnmanagedTx
	}
	st := v.(*txState)
	st.mu.Lock()
	st.hooks = append(st.hooks, fn)
	st.mu.Unlock()
	return nil
}

// Managed reports whether tx was begun by Begin or InTx and has not ended.
func Managed(tx *sqlx.Tx) bool {
	_, ok := managed.Load(tx)
	return ok
}
