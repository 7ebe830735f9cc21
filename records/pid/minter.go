package pid

import (
	"context"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// RecidType is the PID type of Invenio's sequential integer record ids.
const RecidType = "recid"

// Next returns the next value (1, 2, 3...) of the named counter. The counter
// row is updated inside the transaction (the caller's, with WithTx), which
// holds its row lock until commit: concurrent callers queue, each gets a
// distinct value, and a rolled-back transaction gives its value back, so
// committed values have no gaps. Keep the transaction short: it serializes
// every minter of the counter.
func (s *Store) Next(ctx context.Context, counter string) (int64, error) {
	if counter == "" || len(counter) > 64 {
		return 0, fmt.Errorf("%w: counter name %q must be 1 to 64 bytes", ErrInvalid, counter)
	}
	var n int64
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		n, err = s.next(ctx, tx, counter)
		return err
	})
	return n, err
}

func (s *Store) next(ctx context.Context, tx *sqlx.Tx, counter string) (int64, error) {
	if err := s.ensureCounter(ctx, tx, counter); err != nil {
		return 0, err
	}
	n, ok, err := s.bump(ctx, tx, counter)
	if err == nil && !ok {
		err = fmt.Errorf("pid: counter %s does not exist (was its row deleted?)", counter)
	}
	return n, err
}

// ensureCounter creates the counter's row the first time this store uses
// it. On server databases it runs as its own autocommitted statement before
// the transaction touches the counter: an UPDATE of a missing row would take
// a gap lock (MySQL) that concurrent first users' inserts wait on forever.
// SQLite serializes writers, so there it runs in tx (a second connection
// would wait on tx). The "recid" counter is created by the migration.
func (s *Store) ensureCounter(ctx context.Context, tx *sqlx.Tx, counter string) error {
	if _, ok := s.c.counters.Load(counter); ok {
		return nil
	}
	var q sqldb.Querier = s.c.db
	if s.c.d == sqldb.SQLite {
		q = tx
	}
	if _, err := q.ExecContext(ctx, s.c.q.counterInit, counter); err != nil {
		return fmt.Errorf("pid: create counter %s: %w", counter, err)
	}
	if s.c.d != sqldb.SQLite {
		s.c.counters.Store(counter, true)
	}
	return nil
}

// bump increments the counter in tx and returns its new value; ok is false
// when the counter row does not exist.
func (s *Store) bump(ctx context.Context, tx *sqlx.Tx, counter string) (n int64, ok bool, err error) {
	if s.c.d == sqldb.MySQL {
		res, err := tx.ExecContext(ctx, s.c.q.counterNext, counter)
		if err != nil {
			return 0, false, fmt.Errorf("pid: counter %s: %w", counter, err)
		}
		if rows, err := res.RowsAffected(); err != nil || rows == 0 {
			return 0, false, err
		}
		n, err = res.LastInsertId()
		if err != nil {
			return 0, false, fmt.Errorf("pid: counter %s: %w", counter, err)
		}
		return n, true, nil
	}
	err = tx.QueryRowxContext(ctx, s.c.q.counterNext, counter).Scan(&n)
	if sqldb.IsNoRows(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("pid: counter %s: %w", counter, err)
	}
	return n, true, nil
}

// Counter returns the counter's last issued value (0 if never used).
func (s *Store) Counter(ctx context.Context, counter string) (int64, error) {
	var n int64
	err := s.querier().QueryRowxContext(ctx, s.c.q.counterRead, counter).Scan(&n)
	if sqldb.IsNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pid: counter %s: %w", counter, err)
	}
	return n, nil
}

// MintRecid mints the next "recid" PID (value "1", "2"...), registered and
// bound to the object, as Invenio's recid provider does. Run it in the
// transaction that creates the record (WithTx) so both commit or neither.
func (s *Store) MintRecid(ctx context.Context, objectType string, id uuid.UUID) (*PID, error) {
	if objectType == "" || len(objectType) > 32 || id == uuid.Nil {
		return nil, fmt.Errorf("%w: object needs a type (≤32 bytes) and an id", ErrInvalid)
	}
	var out *PID
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		n, err := s.next(ctx, tx, RecidType)
		if err != nil {
			return err
		}
		out, err = s.create(ctx, tx, RecidType, strconv.FormatInt(n, 10),
			createConfig{status: StatusRegistered, objType: objectType, objID: id})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
