package records

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/access"
)

// ResourceType is the access.Resource type of records.
const ResourceType = "record"

// AccessResource describes r for an access.Policy.
func AccessResource(r *Record) access.Resource {
	if r == nil {
		return access.Resource{Type: ResourceType}
	}
	return access.Resource{Type: ResourceType, ID: r.ID.String(), Doc: r.JSON}
}

// CheckRead asks p whether the identity of ctx may read r (reads run no
// hooks, so hosts check them with this before answering).
func CheckRead(ctx context.Context, p access.Policy, r *Record) error {
	return access.Check(ctx, p, access.Read, AccessResource(r))
}

// Guard makes every write of the store (and of its WithTx views) ask p
// first, in a Before hook: create (access.Create, with the new document in
// Resource.New), update (access.Update, current document in Doc and the
// new one in New), and delete, undelete, revert and purge (access.Delete).
// A refusal fails the operation with an *access.ForbiddenError (errors.Is
// access.ErrForbidden) and writes nothing. Contexts marked with
// access.AsSystem pass. Call it once per store.
func (s *Store) Guard(p access.Policy) {
	check := func(action access.Action) Hook {
		return func(ctx context.Context, _ *sqlx.Tx, ev *Event) error {
			res := access.Resource{Type: ResourceType}
			if ev.Record != nil {
				res.ID = ev.Record.ID.String()
			}
			switch {
			case ev.Op == OpCreate:
				res.New = ev.Record.JSON
			case ev.Op == OpUpdate:
				res.New = ev.Record.JSON
				if ev.Previous != nil {
					res.Doc = ev.Previous.JSON
				}
			case ev.Previous != nil:
				res.Doc = ev.Previous.JSON
			case ev.Record != nil:
				res.Doc = ev.Record.JSON
			}
			return access.Check(ctx, p, action, res)
		}
	}
	s.On(Before, OpCreate, check(access.Create))
	s.On(Before, OpUpdate, check(access.Update))
	for _, op := range []Op{OpDelete, OpUndelete, OpRevert, OpPurge} {
		s.On(Before, op, check(access.Delete))
	}
}
