package records_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/records"
)

func testHooks(t *testing.T, e *env) {
	ctx := context.Background()
	s := newStore(t, e.db)
	var (
		mu   sync.Mutex
		seen []string
	)
	for _, op := range []records.Op{records.OpCreate, records.OpUpdate, records.OpDelete, records.OpUndelete, records.OpRevert, records.OpPurge} {
		for _, st := range []records.Stage{records.Before, records.After} {
			s.On(st, op, func(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
				if tx == nil {
					t.Errorf("%s hook got no tx", op)
				}
				if ev.Op != op {
					t.Errorf("hook for %s got event %s", op, ev.Op)
				}
				if (op == records.OpCreate) != (ev.Previous == nil) {
					t.Errorf("%s: Previous = %+v", op, ev.Previous)
				}
				if ev.Previous != nil && op != records.OpPurge && ev.Record.Revision != ev.Previous.Revision+1 {
					t.Errorf("%s: revision %d after %d", op, ev.Record.Revision, ev.Previous.Revision)
				}
				name := "before:"
				if st == records.After {
					name = "after:"
				}
				mu.Lock()
				seen = append(seen, name+string(op))
				mu.Unlock()
				return nil
			})
		}
	}
	r := mustCreate(t, s, `{"h": 0}`)
	if _, err := s.Update(ctx, r.ID, json.RawMessage(`{"h": 1}`), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Undelete(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revert(ctx, r.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	want := []string{"before:create", "after:create", "before:update", "after:update", "before:delete", "after:delete",
		"before:undelete", "after:undelete", "before:revert", "after:revert", "before:purge", "after:purge"}
	if len(seen) != len(want) {
		t.Fatalf("hooks ran %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("hooks ran %v, want %v", seen, want)
		}
	}
	// Hooks are per store: the suite's main store ran none of them.
	seen = nil
	mustCreate(t, e.s, `{"h": 2}`)
	if len(seen) != 0 {
		t.Fatalf("hooks of another store ran: %v", seen)
	}
}

func testHookAmend(t *testing.T, e *env) {
	ctx := context.Background()
	s := newStore(t, e.db)
	s.On(records.Before, records.OpCreate, func(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
		var m map[string]any
		if err := json.Unmarshal(ev.Record.JSON, &m); err != nil {
			return err
		}
		if m["makeInvalid"] == true {
			ev.Record.JSON = json.RawMessage(`[1]`)
			return nil
		}
		if m["makeSchemaInvalid"] == true {
			ev.Record.JSON = json.RawMessage(`{"$schema": "` + articleSchemaURI + `"}`)
			return nil
		}
		m["stamped"] = "by hook"
		b, err := json.Marshal(m)
		// Replace the record (not just its JSON): the store must follow.
		ev.Record = &records.Record{JSON: b}
		// Only the JSON is amendable: these are put back.
		ev.Record.Revision, ev.Record.Deleted, ev.Record.ID = 99, true, uuid.New()
		return err
	})
	r := mustCreate(t, s, `{"a": 1}`)
	jsonEqual(t, r.JSON, `{"a": 1, "stamped": "by hook"}`)
	if r.Revision != 0 || r.Deleted {
		t.Fatalf("a hook changed bookkeeping fields: %+v", r)
	}
	jsonEqual(t, mustGet(t, s, r.ID).JSON, `{"a": 1, "stamped": "by hook"}`)
	rev, err := s.Revision(ctx, r.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, rev.JSON, `{"a": 1, "stamped": "by hook"}`)

	// An amended document is validated again.
	before := snap(t, e.db)
	_, err = s.Create(ctx, json.RawMessage(`{"makeInvalid": true}`))
	wantErr(t, err, records.ErrInvalid)
	_, err = s.Create(ctx, json.RawMessage(`{"makeSchemaInvalid": true}`))
	wantErr(t, err, records.ErrSchema)
	unchanged(t, e.db, before)
}

func testHookVeto(t *testing.T, e *env) {
	ctx := context.Background()
	s := newStore(t, e.db)
	veto := errors.New("vetoed by policy")
	r := mustCreate(t, s, `{"v": 0}`)
	s.On(records.Before, records.OpUpdate, func(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
		return veto
	})
	s.On(records.Before, records.OpCreate, func(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
		return veto
	})
	before := snap(t, e.db)
	_, err := s.Update(ctx, r.ID, json.RawMessage(`{"v": 1}`), 0)
	wantErr(t, err, veto)
	_, err = s.Create(ctx, json.RawMessage(`{"v": 1}`))
	wantErr(t, err, veto)
	_, err = s.CreateMany(ctx, []json.RawMessage{[]byte(`{"v": 1}`)})
	wantErr(t, err, veto)
	unchanged(t, e.db, before)
	if got := mustGet(t, s, r.ID); got.Revision != 0 {
		t.Fatalf("revision = %d after veto", got.Revision)
	}
}

func testHookAfterRollsBack(t *testing.T, e *env) {
	// An After hook writes an outbox row in the operation's transaction; a
	// later hook fails, so the record, its revision and the outbox row all
	// roll back together.
	ctx := context.Background()
	if _, err := e.db.Exec("CREATE TABLE IF NOT EXISTS hook_outbox (record_id VARCHAR(36) NOT NULL, revision BIGINT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, e.db)
	fail := errors.New("after hook failed")
	s.On(records.After, records.OpCreate, func(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
		_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO hook_outbox (record_id, revision) VALUES (?, ?)"), ev.Record.ID.String(), ev.Record.Revision)
		return err
	})
	s.On(records.After, records.OpCreate, func(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
		var m map[string]any
		_ = json.Unmarshal(ev.Record.JSON, &m)
		if m["fail"] == true {
			return fail
		}
		return nil
	})
	before := snap(t, e.db)
	outbox := count(t, e.db, "hook_outbox")
	_, err := s.Create(ctx, json.RawMessage(`{"fail": true}`))
	wantErr(t, err, fail)
	unchanged(t, e.db, before)
	if n := count(t, e.db, "hook_outbox"); n != outbox {
		t.Fatalf("outbox rows %d -> %d after rollback", outbox, n)
	}
	mustCreate(t, s, `{"fail": false}`)
	if n := count(t, e.db, "hook_outbox"); n != outbox+1 {
		t.Fatalf("outbox rows %d -> %d after commit", outbox, n)
	}
}
