package pid

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// CreateOption configures Create.
type CreateOption func(*createConfig)

type createConfig struct {
	status  Status
	objType string
	objID   uuid.UUID
}

// WithStatus sets the new PID's status (default StatusNew).
func WithStatus(s Status) CreateOption { return func(c *createConfig) { c.status = s } }

// WithObject binds the new PID to an object (for records: ObjectRecord and
// the record's id).
func WithObject(objectType string, id uuid.UUID) CreateOption {
	return func(c *createConfig) { c.objType, c.objID = objectType, id }
}

// Create adds a PID. An existing (type, value) fails with ErrExists.
func (s *Store) Create(ctx context.Context, pidType, value string, opts ...CreateOption) (*PID, error) {
	cc := createConfig{status: StatusNew}
	for _, o := range opts {
		o(&cc)
	}
	if err := checkKey(pidType, value); err != nil {
		return nil, err
	}
	if !cc.status.valid() {
		return nil, fmt.Errorf("%w: status %q", ErrInvalid, cc.status)
	}
	if (cc.objType == "") != (cc.objID == uuid.Nil) || len(cc.objType) > 32 {
		return nil, fmt.Errorf("%w: object needs both a type (≤32 bytes) and an id", ErrInvalid)
	}
	var out *PID
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		p, err := s.create(ctx, tx, pidType, value, cc)
		out = p
		return err
	})
	return out, err
}

func (s *Store) create(ctx context.Context, tx *sqlx.Tx, pidType, value string, cc createConfig) (*PID, error) {
	now := s.c.timestamp()
	p := &PID{Type: pidType, Value: value, Status: cc.status, ObjectType: cc.objType, ObjectID: cc.objID, Created: now, Updated: now}
	args := []any{pidType, value, string(cc.status), nullString(cc.objType), nullUUID(cc.objID), now, now}
	var err error
	if s.c.q.insertReturns {
		err = tx.QueryRowxContext(ctx, s.c.q.insert, args...).Scan(&p.ID)
	} else {
		var res interface{ LastInsertId() (int64, error) }
		res, err = tx.ExecContext(ctx, s.c.q.insert, args...)
		if err == nil {
			p.ID, err = res.LastInsertId()
		}
	}
	if err != nil {
		if sqldb.IsUniqueViolation(err) {
			return nil, fmt.Errorf("%w: %s:%s", ErrExists, pidType, value)
		}
		return nil, fmt.Errorf("pid: create %s:%s: %w", pidType, value, err)
	}
	return p, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullUUID(id uuid.UUID) any {
	if id == uuid.Nil {
		return nil
	}
	return id.String()
}

// Get returns the PID (type, value), or ErrNotFound.
func (s *Store) Get(ctx context.Context, pidType, value string) (*PID, error) {
	p, err := s.getRow(ctx, s.querier(), s.c.q.get, pidType, value)
	if err != nil {
		return nil, wrapKey(err, pidType, value)
	}
	return p, nil
}

// ByObject returns the PIDs bound to an object, oldest first.
func (s *Store) ByObject(ctx context.Context, objectType string, id uuid.UUID) ([]*PID, error) {
	rows, err := s.querier().QueryxContext(ctx, s.c.q.byObject, objectType, id.String())
	if err != nil {
		return nil, fmt.Errorf("pid: by object: %w", err)
	}
	defer rows.Close()
	var out []*PID
	for rows.Next() {
		p, err := scanPID(rows)
		if err != nil {
			return nil, fmt.Errorf("pid: by object: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// RedirectTarget returns the PID a redirected PID points to.
func (s *Store) RedirectTarget(ctx context.Context, pidType, value string) (*PID, error) {
	p, err := s.Get(ctx, pidType, value)
	if err != nil {
		return nil, err
	}
	return s.target(ctx, s.querier(), p)
}

func (s *Store) target(ctx context.Context, q sqldb.Querier, p *PID) (*PID, error) {
	var targetID int64
	if err := q.QueryRowxContext(ctx, s.c.q.redirectTarget, p.ID).Scan(&targetID); err != nil {
		if sqldb.IsNoRows(err) {
			return nil, fmt.Errorf("%w: %s is not redirected", ErrNotFound, p)
		}
		return nil, fmt.Errorf("pid: redirect target of %s: %w", p, err)
	}
	t, err := s.getRow(ctx, q, s.c.q.getByID, targetID)
	if err != nil {
		return nil, fmt.Errorf("pid: redirect target of %s: %w", p, err)
	}
	return t, nil
}

func wrapKey(err error, pidType, value string) error {
	if err == ErrNotFound {
		return fmt.Errorf("%w: %s:%s", ErrNotFound, pidType, value)
	}
	return err
}
