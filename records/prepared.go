package records

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"
)

// stmt is one hot statement of the store (get, insert, update...). With
// prepared statements on (the default), it is prepared once per store and
// then once per pooled connection by database/sql, so each use is a single
// round trip (lib/pq and go-sql-driver/mysql otherwise prepare and execute
// in two or three).
type stmt struct {
	query string
	once  sync.Once
	st    *sql.Stmt
}

func newStmt(query string) *stmt { return &stmt{query: query} }

// prepared returns the prepared statement, or nil when prepared statements
// are off or preparing failed (then the query text is used).
func (c *core) prepared(s *stmt) *sql.Stmt {
	if !c.prepare {
		return nil
	}
	s.once.Do(func() {
		st, err := c.db.PrepareContext(context.Background(), s.query)
		if err != nil {
			c.log.Warn("records: prepare failed; using plain queries", "err", err)
			return
		}
		s.st = st
	})
	return s.st
}

func (c *core) exec(ctx context.Context, tx *sqlx.Tx, s *stmt, args ...any) (sql.Result, error) {
	if st := c.prepared(s); st != nil {
		if tx != nil {
			return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		}
		return st.ExecContext(ctx, args...)
	}
	if tx != nil {
		return tx.ExecContext(ctx, s.query, args...)
	}
	return c.db.ExecContext(ctx, s.query, args...)
}

func (c *core) queryRow(ctx context.Context, tx *sqlx.Tx, s *stmt, args ...any) *sql.Row {
	if st := c.prepared(s); st != nil {
		if tx != nil {
			return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
		}
		return st.QueryRowContext(ctx, args...)
	}
	if tx != nil {
		return tx.QueryRowContext(ctx, s.query, args...)
	}
	return c.db.QueryRowContext(ctx, s.query, args...)
}

// statements are the prepared hot paths of a store.
type statements struct {
	get, getForUpdate, insert, copyCurrent, update, updateOne *stmt
}

func newStatements(q queries) statements {
	return statements{
		get:          newStmt(q.get),
		getForUpdate: newStmt(q.getForUpdate),
		insert:       newStmt(q.insert),
		copyCurrent:  newStmt(q.copyCurrent),
		update:       newStmt(q.update),
		updateOne:    newStmt(q.updateOne),
	}
}

func (st statements) all() []*stmt {
	return []*stmt{st.get, st.getForUpdate, st.insert, st.copyCurrent, st.update, st.updateOne}
}

// Close releases the store's prepared statements, and closes the database
// if the store opened it (Open). A store made by New leaves the host's
// database open. WithTx views share the statements: close the root store
// only, after its last use.
func (s *Store) Close() error {
	for _, st := range s.c.st.all() {
		st.once.Do(func() {}) // no preparing after Close
		if st.st != nil {
			_ = st.st.Close()
		}
	}
	if s.c.ownsDB {
		return s.c.db.Close()
	}
	return nil
}
