package pid

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// change locks the PID, lets fn check and apply one action, and returns the
// PID as it is afterwards (nil if fn removed it).
func (s *Store) change(ctx context.Context, pidType, value string, fn func(tx *sqlx.Tx, p *PID) (*PID, error)) (*PID, error) {
	var out *PID
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		p, err := s.getRow(ctx, tx, s.c.q.getForUpdate, pidType, value)
		if err != nil {
			return wrapKey(err, pidType, value)
		}
		out, err = fn(tx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) setStatus(ctx context.Context, tx *sqlx.Tx, p *PID, st Status) (*PID, error) {
	now := s.c.timestamp()
	if _, err := tx.ExecContext(ctx, s.c.q.setStatus, string(st), now, p.ID); err != nil {
		return nil, fmt.Errorf("pid: set status of %s: %w", p, err)
	}
	p.Status, p.Updated = st, now
	return p, nil
}

func illegal(p *PID, action string, to Status) error {
	return &TransitionError{Type: p.Type, Value: p.Value, Action: action, From: p.Status, To: to}
}

// Reserve marks the PID reserved (for example a DOI booked with the
// registration agency but not yet public). Allowed from New or Reserved.
func (s *Store) Reserve(ctx context.Context, pidType, value string) (*PID, error) {
	return s.change(ctx, pidType, value, func(tx *sqlx.Tx, p *PID) (*PID, error) {
		if p.Status != StatusNew && p.Status != StatusReserved {
			return nil, illegal(p, "reserve", StatusReserved)
		}
		return s.setStatus(ctx, tx, p, StatusReserved)
	})
}

// Register marks the PID registered (resolvable). Allowed from New or
// Reserved; refused when Registered, Redirected or Deleted.
func (s *Store) Register(ctx context.Context, pidType, value string) (*PID, error) {
	return s.change(ctx, pidType, value, func(tx *sqlx.Tx, p *PID) (*PID, error) {
		if p.Status != StatusNew && p.Status != StatusReserved {
			return nil, illegal(p, "register", StatusRegistered)
		}
		return s.setStatus(ctx, tx, p, StatusRegistered)
	})
}

// Delete removes a New PID (it was never visible) and marks any other PID
// Deleted, so resolving it says "gone"; deleting a Deleted PID is refused.
// It returns the PID as it is afterwards, or nil if the row was removed.
func (s *Store) Delete(ctx context.Context, pidType, value string) (*PID, error) {
	return s.change(ctx, pidType, value, func(tx *sqlx.Tx, p *PID) (*PID, error) {
		switch p.Status {
		case StatusDeleted:
			return nil, illegal(p, "delete", StatusDeleted)
		case StatusNew:
			if _, err := tx.ExecContext(ctx, s.c.q.deleteRow, p.ID); err != nil {
				return nil, fmt.Errorf("pid: delete %s: %w", p, err)
			}
			return nil, nil
		case StatusRedirected:
			if _, err := tx.ExecContext(ctx, s.c.q.upsertRedirect[0], p.ID); err != nil {
				return nil, fmt.Errorf("pid: delete redirect of %s: %w", p, err)
			}
		}
		return s.setStatus(ctx, tx, p, StatusDeleted)
	})
}

// Redirect points a Registered (or already Redirected) PID at another PID,
// for example an old identifier at the record that replaced it. The target
// must exist and differ from the PID.
func (s *Store) Redirect(ctx context.Context, pidType, value, targetType, targetValue string) (*PID, error) {
	return s.change(ctx, pidType, value, func(tx *sqlx.Tx, p *PID) (*PID, error) {
		if p.Status != StatusRegistered && p.Status != StatusRedirected {
			return nil, illegal(p, "redirect", StatusRedirected)
		}
		target, err := s.getRow(ctx, tx, s.c.q.get, targetType, targetValue)
		if err != nil {
			return nil, fmt.Errorf("pid: redirect target: %w", wrapKey(err, targetType, targetValue))
		}
		if target.ID == p.ID {
			return nil, fmt.Errorf("%w: %s cannot redirect to itself", ErrInvalid, p)
		}
		if _, err := tx.ExecContext(ctx, s.c.q.upsertRedirect[0], p.ID); err != nil {
			return nil, fmt.Errorf("pid: redirect %s: %w", p, err)
		}
		if _, err := tx.ExecContext(ctx, s.c.q.upsertRedirect[1], p.ID, target.ID); err != nil {
			return nil, fmt.Errorf("pid: redirect %s: %w", p, err)
		}
		return s.setStatus(ctx, tx, p, StatusRedirected)
	})
}

// Assign binds the PID to an object (for records: ObjectRecord and the
// record's id). Assigning the object it already has is a no-op; another
// object fails with ErrAlreadyAssigned (Unassign first); a Deleted or
// Redirected PID cannot be assigned.
func (s *Store) Assign(ctx context.Context, pidType, value, objectType string, id uuid.UUID) (*PID, error) {
	if objectType == "" || len(objectType) > 32 || id == uuid.Nil {
		return nil, fmt.Errorf("%w: object needs a type (≤32 bytes) and an id", ErrInvalid)
	}
	return s.change(ctx, pidType, value, func(tx *sqlx.Tx, p *PID) (*PID, error) {
		if p.Status == StatusDeleted || p.Status == StatusRedirected {
			return nil, illegal(p, "assign", p.Status)
		}
		if p.Assigned() {
			if p.ObjectType == objectType && p.ObjectID == id {
				return p, nil
			}
			return nil, fmt.Errorf("%w: %s is bound to %s %s", ErrAlreadyAssigned, p, p.ObjectType, p.ObjectID)
		}
		return s.setObject(ctx, tx, p, objectType, id)
	})
}

// Unassign removes the PID's object binding (as Invenio, in any status); an
// unbound PID is left as it is.
func (s *Store) Unassign(ctx context.Context, pidType, value string) (*PID, error) {
	return s.change(ctx, pidType, value, func(tx *sqlx.Tx, p *PID) (*PID, error) {
		if !p.Assigned() {
			return p, nil
		}
		return s.setObject(ctx, tx, p, "", uuid.Nil)
	})
}

func (s *Store) setObject(ctx context.Context, tx *sqlx.Tx, p *PID, objectType string, id uuid.UUID) (*PID, error) {
	now := s.c.timestamp()
	if _, err := tx.ExecContext(ctx, s.c.q.setObject, nullString(objectType), nullUUID(id), now, p.ID); err != nil {
		return nil, fmt.Errorf("pid: assign %s: %w", p, err)
	}
	p.ObjectType, p.ObjectID, p.Updated = objectType, id, now
	return p, nil
}
