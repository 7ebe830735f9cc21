package records

import (
	"context"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Stage says whether a hook runs before or after the operation's write.
type Stage int

// The hook stages.
const (
	// Before hooks run inside the transaction before the write; they can veto
	// the operation by returning an error, or amend ev.Record.JSON (which is
	// then validated again).
	Before Stage = iota
	// After hooks run inside the same transaction after the write and before
	// the commit (so they can write outbox rows atomically); an error rolls
	// the whole operation back.
	After
)

// Op names a store operation.
type Op string

// The operations hooks can attach to; Op is also recorded per revision.
const (
	OpCreate   Op = "create"
	OpUpdate   Op = "update"
	OpDelete   Op = "delete"
	OpUndelete Op = "undelete"
	OpRevert   Op = "revert"
	OpPurge    Op = "purge"
)

// Event is what a hook sees.
type Event struct {
	// Op is the operation.
	Op Op
	// Record is the new state; Before hooks may change Record.JSON. For
	// OpPurge it is the record being removed.
	Record *Record
	// Previous is the state before the operation (nil on create).
	Previous *Record
}

// Hook runs inside the operation's transaction. Returning an error aborts
// the operation and rolls the transaction back (the caller's transaction is
// left for the caller to roll back).
type Hook func(ctx context.Context, tx *sqlx.Tx, ev *Event) error

type hookKey struct {
	stage Stage
	op    Op
}

type hookRegistry struct {
	mu    sync.RWMutex
	hooks map[hookKey][]Hook
}

// On registers h to run at stage of op, after the hooks registered before
// it. Hooks are shared by the store and every WithTx view of it.
func (s *Store) On(stage Stage, op Op, h Hook) {
	r := s.c.hooks
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hooks == nil {
		r.hooks = map[hookKey][]Hook{}
	}
	k := hookKey{stage, op}
	// Copy on write, so running hooks never see a slice being appended to.
	hs := make([]Hook, 0, len(r.hooks[k])+1)
	hs = append(hs, r.hooks[k]...)
	r.hooks[k] = append(hs, h)
}

// has reports whether any hook is registered for op.
func (r *hookRegistry) has(op Op) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.hooks[hookKey{Before, op}])+len(r.hooks[hookKey{After, op}]) > 0
}

func (r *hookRegistry) get(stage Stage, op Op) []Hook {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.hooks[hookKey{stage, op}]
}

// runBefore runs the Before hooks of ev.Op and reports whether there were
// any (so the caller knows to validate the possibly amended JSON again).
func (c *core) runBefore(ctx context.Context, tx *sqlx.Tx, ev *Event) (bool, error) {
	hs := c.hooks.get(Before, ev.Op)
	for _, h := range hs {
		if err := h(ctx, tx, ev); err != nil {
			return true, err
		}
	}
	return len(hs) > 0, nil
}

func (c *core) runAfter(ctx context.Context, tx *sqlx.Tx, ev *Event) error {
	for _, h := range c.hooks.get(After, ev.Op) {
		if err := h(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}
