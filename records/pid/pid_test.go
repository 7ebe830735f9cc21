package pid_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
)

type env struct {
	d    sqldb.Dialect
	db   *sqlx.DB
	recs *records.Store
	pids *pid.Store
}

// TestConformance runs the PID suite on SQLite, and on PostgreSQL and
// MySQL/MariaDB when their URLs are set.
func TestConformance(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"CreateGet", testCreateGet},
		{"Transitions", testTransitions},
		{"AssignUnassign", testAssign},
		{"Redirect", testRedirect},
		{"Resolver", testResolver},
		{"RecidConcurrent", testRecidConcurrent},
		{"CounterFirstUseConcurrent", testCounterFirstUse},
		{"RollbackLeavesNothing", testRollback},
	}
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		db := sqldbtest.Fresh(t, d)
		recs, err := records.New(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		pids, err := pid.New(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		e := &env{d: d, db: db, recs: recs, pids: pids}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { c.fn(t, e) })
		}
	})
}

func count(t *testing.T, db *sqlx.DB, table string) int {
	t.Helper()
	var n int
	if err := db.Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func wantErr(t *testing.T, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v", targets)
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Fatalf("err = %v, want it to match %v", err, target)
		}
	}
}

func newRecord(t *testing.T, e *env) *records.Record {
	t.Helper()
	r, err := e.recs.Create(context.Background(), json.RawMessage(`{"title": "t"}`))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testCreateGet(t *testing.T, e *env) {
	ctx := context.Background()
	p, err := e.pids.Create(ctx, "doi", "10.1234/abc")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID == 0 || p.Status != pid.StatusNew || p.Assigned() || p.Created.IsZero() {
		t.Fatalf("created = %+v", p)
	}
	got, err := e.pids.Get(ctx, "doi", "10.1234/abc")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != p.ID || got.Status != pid.StatusNew || !got.Created.Equal(p.Created) {
		t.Fatalf("Get = %+v, want %+v", got, p)
	}
	// Values are case-sensitive and types separate namespaces.
	if _, err := e.pids.Create(ctx, "doi", "10.1234/ABC"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pids.Create(ctx, "ark", "10.1234/abc"); err != nil {
		t.Fatal(err)
	}
	rec := newRecord(t, e)
	b, err := e.pids.Create(ctx, "handle", "h/1", pid.WithStatus(pid.StatusRegistered), pid.WithObject(pid.ObjectRecord, rec.ID))
	if err != nil {
		t.Fatal(err)
	}
	got, err = e.pids.Get(ctx, "handle", "h/1")
	if err != nil || got.Status != pid.StatusRegistered || got.ObjectType != pid.ObjectRecord || got.ObjectID != rec.ID || got.ID != b.ID {
		t.Fatalf("Get = %+v, %v", got, err)
	}

	before := count(t, e.db, "records_pids")
	_, err = e.pids.Create(ctx, "doi", "10.1234/abc")
	wantErr(t, err, pid.ErrExists)
	for _, bad := range []struct{ typ, val string }{
		{"", "x"}, {"toolong", "x"}, {"doi", ""}, {"doi", strings.Repeat("v", 256)}, {"doi", "\xff"},
	} {
		_, err = e.pids.Create(ctx, bad.typ, bad.val)
		wantErr(t, err, pid.ErrInvalid)
	}
	_, err = e.pids.Create(ctx, "doi", "x", pid.WithStatus("Z"))
	wantErr(t, err, pid.ErrInvalid)
	_, err = e.pids.Create(ctx, "doi", "x", pid.WithObject("", rec.ID))
	wantErr(t, err, pid.ErrInvalid)
	if n := count(t, e.db, "records_pids"); n != before {
		t.Fatalf("pids %d -> %d after refused creates", before, n)
	}
	// 255 characters (not bytes) fit.
	long := strings.Repeat("é", 255)
	if _, err := e.pids.Create(ctx, "doi", long); err != nil {
		t.Fatalf("255-character value: %v", err)
	}
	_, err = e.pids.Get(ctx, "doi", "missing")
	wantErr(t, err, pid.ErrNotFound)
}

// testTransitions checks every action from every status against Invenio's
// rules.
func testTransitions(t *testing.T, e *env) {
	ctx := context.Background()
	all := []pid.Status{pid.StatusNew, pid.StatusReserved, pid.StatusRegistered, pid.StatusRedirected, pid.StatusDeleted}
	target, err := e.pids.Create(ctx, "tt", "target", pid.WithStatus(pid.StatusRegistered))
	if err != nil {
		t.Fatal(err)
	}
	type action struct {
		name  string
		to    pid.Status
		legal []pid.Status
		do    func(v string) (*pid.PID, error)
	}
	actions := []action{
		{"reserve", pid.StatusReserved, []pid.Status{pid.StatusNew, pid.StatusReserved},
			func(v string) (*pid.PID, error) { return e.pids.Reserve(ctx, "tt", v) }},
		{"register", pid.StatusRegistered, []pid.Status{pid.StatusNew, pid.StatusReserved},
			func(v string) (*pid.PID, error) { return e.pids.Register(ctx, "tt", v) }},
		{"delete", pid.StatusDeleted, []pid.Status{pid.StatusNew, pid.StatusReserved, pid.StatusRegistered, pid.StatusRedirected},
			func(v string) (*pid.PID, error) { return e.pids.Delete(ctx, "tt", v) }},
		{"redirect", pid.StatusRedirected, []pid.Status{pid.StatusRegistered, pid.StatusRedirected},
			func(v string) (*pid.PID, error) { return e.pids.Redirect(ctx, "tt", v, target.Type, target.Value) }},
	}
	for _, a := range actions {
		for _, from := range all {
			v := fmt.Sprintf("%s-%s", a.name, from)
			if _, err := e.pids.Create(ctx, "tt", v, pid.WithStatus(from)); err != nil {
				t.Fatal(err)
			}
			p, err := a.do(v)
			if slices.Contains(a.legal, from) {
				if err != nil {
					t.Fatalf("%s from %s: %v", a.name, from, err)
				}
				got, gerr := e.pids.Get(ctx, "tt", v)
				if a.name == "delete" && from == pid.StatusNew {
					// A new PID was never visible: its row goes.
					if p != nil || !errors.Is(gerr, pid.ErrNotFound) {
						t.Fatalf("delete of new PID left %+v, %v", got, gerr)
					}
					continue
				}
				if gerr != nil || got.Status != a.to || p.Status != a.to {
					t.Fatalf("%s from %s: status %v (%v), want %s", a.name, from, got, gerr, a.to)
				}
				continue
			}
			var te *pid.TransitionError
			if !errors.As(err, &te) || !errors.Is(err, pid.ErrInvalidTransition) {
				t.Fatalf("%s from %s: err = %v, want *TransitionError", a.name, from, err)
			}
			if te.From != from || te.To != a.to || te.Action != a.name || te.Value != v {
				t.Fatalf("%s from %s: %+v", a.name, from, te)
			}
			got, gerr := e.pids.Get(ctx, "tt", v)
			if gerr != nil || got.Status != from {
				t.Fatalf("%s from %s refused but status is now %v (%v)", a.name, from, got, gerr)
			}
		}
	}
	_, err = e.pids.Reserve(ctx, "tt", "nope")
	wantErr(t, err, pid.ErrNotFound)
}

func testAssign(t *testing.T, e *env) {
	ctx := context.Background()
	r1, r2 := newRecord(t, e), newRecord(t, e)
	if _, err := e.pids.Create(ctx, "as", "1"); err != nil {
		t.Fatal(err)
	}
	p, err := e.pids.Assign(ctx, "as", "1", pid.ObjectRecord, r1.ID)
	if err != nil || !p.Assigned() || p.ObjectID != r1.ID {
		t.Fatalf("Assign = %+v, %v", p, err)
	}
	if _, err := e.pids.Assign(ctx, "as", "1", pid.ObjectRecord, r1.ID); err != nil {
		t.Fatalf("re-assigning the same object: %v", err)
	}
	_, err = e.pids.Assign(ctx, "as", "1", pid.ObjectRecord, r2.ID)
	wantErr(t, err, pid.ErrAlreadyAssigned)
	if _, err := e.pids.Create(ctx, "as", "2", pid.WithObject(pid.ObjectRecord, r1.ID)); err != nil {
		t.Fatal(err)
	}
	byObj, err := e.pids.ByObject(ctx, pid.ObjectRecord, r1.ID)
	if err != nil || len(byObj) != 2 || byObj[0].Value != "1" || byObj[1].Value != "2" {
		t.Fatalf("ByObject = %v, %v", byObj, err)
	}
	p, err = e.pids.Unassign(ctx, "as", "1")
	if err != nil || p.Assigned() {
		t.Fatalf("Unassign = %+v, %v", p, err)
	}
	got, _ := e.pids.Get(ctx, "as", "1")
	if got.Assigned() {
		t.Fatalf("still assigned after Unassign: %+v", got)
	}
	if _, err := e.pids.Assign(ctx, "as", "1", pid.ObjectRecord, r2.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.pids.Assign(ctx, "as", "1", "", r2.ID)
	wantErr(t, err, pid.ErrInvalid)
	if _, err := e.pids.Create(ctx, "as", "gone", pid.WithStatus(pid.StatusDeleted)); err != nil {
		t.Fatal(err)
	}
	_, err = e.pids.Assign(ctx, "as", "gone", pid.ObjectRecord, r1.ID)
	wantErr(t, err, pid.ErrInvalidTransition)
}

func testRedirect(t *testing.T, e *env) {
	ctx := context.Background()
	for _, v := range []string{"old", "new", "newer"} {
		if _, err := e.pids.Create(ctx, "rd", v, pid.WithStatus(pid.StatusRegistered)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.pids.Redirect(ctx, "rd", "old", "rd", "new"); err != nil {
		t.Fatal(err)
	}
	tg, err := e.pids.RedirectTarget(ctx, "rd", "old")
	if err != nil || tg.Value != "new" {
		t.Fatalf("RedirectTarget = %v, %v", tg, err)
	}
	// Redirecting again moves the target.
	if _, err := e.pids.Redirect(ctx, "rd", "old", "rd", "newer"); err != nil {
		t.Fatal(err)
	}
	if tg, err = e.pids.RedirectTarget(ctx, "rd", "old"); err != nil || tg.Value != "newer" {
		t.Fatalf("RedirectTarget = %v, %v", tg, err)
	}
	_, err = e.pids.Redirect(ctx, "rd", "new", "rd", "new")
	wantErr(t, err, pid.ErrInvalid)
	_, err = e.pids.Redirect(ctx, "rd", "new", "rd", "missing")
	wantErr(t, err, pid.ErrNotFound)
	_, err = e.pids.RedirectTarget(ctx, "rd", "new")
	wantErr(t, err, pid.ErrNotFound)
	redirects := count(t, e.db, "records_pid_redirects")
	if _, err := e.pids.Delete(ctx, "rd", "old"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, e.db, "records_pid_redirects"); n != redirects-1 {
		t.Fatalf("redirect rows %d -> %d after deleting a redirected PID", redirects, n)
	}
}

func testResolver(t *testing.T, e *env) {
	ctx := context.Background()
	res := pid.NewResolver(e.pids, e.recs)
	live, deleted := newRecord(t, e), newRecord(t, e)
	if _, err := e.recs.Delete(ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}
	mk := func(v string, opts ...pid.CreateOption) {
		t.Helper()
		if _, err := e.pids.Create(ctx, "rs", v, opts...); err != nil {
			t.Fatal(err)
		}
	}
	reg := pid.WithStatus(pid.StatusRegistered)
	mk("ok", reg, pid.WithObject(pid.ObjectRecord, live.ID))
	mk("new", pid.WithObject(pid.ObjectRecord, live.ID))
	mk("reserved", pid.WithStatus(pid.StatusReserved), pid.WithObject(pid.ObjectRecord, live.ID))
	mk("gone", pid.WithStatus(pid.StatusDeleted), pid.WithObject(pid.ObjectRecord, live.ID))
	mk("moved", reg)
	if _, err := e.pids.Redirect(ctx, "rs", "moved", "rs", "ok"); err != nil {
		t.Fatal(err)
	}
	mk("noobj", reg)
	mk("otherobj", reg, pid.WithObject("file", live.ID))
	mk("dangling", reg, pid.WithObject(pid.ObjectRecord, uuid.New()))
	mk("recdeleted", reg, pid.WithObject(pid.ObjectRecord, deleted.ID))

	p, rec, err := res.Resolve(ctx, "rs", "ok")
	if err != nil || rec == nil || rec.ID != live.ID || p.Value != "ok" {
		t.Fatalf("Resolve(ok) = %v, %v, %v", p, rec, err)
	}
	for _, c := range []struct {
		v    string
		errs []error
	}{
		{"missing", []error{pid.ErrNotFound}},
		{"new", []error{pid.ErrUnregistered}},
		{"reserved", []error{pid.ErrUnregistered}},
		{"gone", []error{pid.ErrDeleted}},
		{"moved", []error{pid.ErrRedirected}},
		{"noobj", []error{pid.ErrObjectMissing}},
		{"otherobj", []error{pid.ErrObjectMissing}},
		{"dangling", []error{pid.ErrObjectMissing}},
		{"recdeleted", []error{pid.ErrDeleted, records.ErrDeleted}},
	} {
		_, rec, err := res.Resolve(ctx, "rs", c.v)
		if rec != nil {
			t.Fatalf("Resolve(%s) returned a record", c.v)
		}
		for _, target := range c.errs {
			if !errors.Is(err, target) {
				t.Fatalf("Resolve(%s) err = %v, want %v", c.v, err, target)
			}
		}
	}
	_, _, err = res.Resolve(ctx, "rs", "moved")
	var re *pid.RedirectedError
	if !errors.As(err, &re) || re.Target.Value != "ok" || re.PID.Value != "moved" {
		t.Fatalf("Resolve(moved) = %v, want *RedirectedError to rs:ok", err)
	}
}

// testRecidConcurrent: 20 goroutines each create a record and mint its recid
// in one transaction; the values are distinct and gap-free.
func testRecidConcurrent(t *testing.T, e *env) {
	const n = 20
	ctx := context.Background()
	start, err := e.pids.Counter(ctx, pid.RecidType)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		vals []int64
	)
	errs := make(chan error, n)
	gate := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			var p *pid.PID
			err := sqldb.InTx(ctx, e.db, nil, func(tx *sqlx.Tx) error {
				rec, err := e.recs.WithTx(tx).Create(ctx, json.RawMessage(`{"minted": true}`))
				if err != nil {
					return err
				}
				p, err = e.pids.WithTx(tx).MintRecid(ctx, pid.ObjectRecord, rec.ID)
				return err
			})
			if err != nil {
				errs <- err
				return
			}
			v, err := strconv.ParseInt(p.Value, 10, 64)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			vals = append(vals, v)
			mu.Unlock()
		}()
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	slices.Sort(vals)
	for i, v := range vals {
		if v != start+int64(i)+1 {
			t.Fatalf("minted %v after %d: want %d..%d, distinct and without gaps", vals, start, start+1, start+n)
		}
	}
	if len(vals) != n {
		t.Fatalf("minted %d values, want %d", len(vals), n)
	}
	// Every minted PID resolves to its record.
	res := pid.NewResolver(e.pids, e.recs)
	for _, v := range vals {
		if _, rec, err := res.Resolve(ctx, pid.RecidType, strconv.FormatInt(v, 10)); err != nil || rec == nil {
			t.Fatalf("resolve recid %d: %v", v, err)
		}
	}
}

// testCounterFirstUse: concurrent first users of a counter that has no row
// yet still get distinct, gap-free values.
func testCounterFirstUse(t *testing.T, e *env) {
	const n = 10
	ctx := context.Background()
	name := "c" + strconv.FormatInt(int64(uuid.New().ID()), 16)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		vals []int64
	)
	errs := make(chan error, n)
	gate := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			v, err := e.pids.Next(ctx, name)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			vals = append(vals, v)
			mu.Unlock()
		}()
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	slices.Sort(vals)
	for i, v := range vals {
		if v != int64(i)+1 {
			t.Fatalf("values %v, want 1..%d", vals, n)
		}
	}
	if got, err := e.pids.Counter(ctx, name); err != nil || got != n {
		t.Fatalf("Counter = %d, %v", got, err)
	}
}

// testRollback: a record, a PID and a minted recid written in the caller's
// transaction all disappear when it rolls back, and the recid is issued
// again.
func testRollback(t *testing.T, e *env) {
	ctx := context.Background()
	before := [3]int{count(t, e.db, "records_metadata"), count(t, e.db, "records_revisions"), count(t, e.db, "records_pids")}
	tx, err := e.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.recs.WithTx(tx).Create(ctx, json.RawMessage(`{"rolled": "back"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.pids.WithTx(tx).Create(ctx, "doi", "10.999/rollback", pid.WithObject(pid.ObjectRecord, rec.ID)); err != nil {
		t.Fatal(err)
	}
	minted, err := e.pids.WithTx(tx).MintRecid(ctx, pid.ObjectRecord, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Inside the transaction everything resolves.
	if _, got, err := pid.NewResolver(e.pids, e.recs).WithTx(tx).Resolve(ctx, pid.RecidType, minted.Value); err != nil || got.ID != rec.ID {
		t.Fatalf("resolve in tx: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	after := [3]int{count(t, e.db, "records_metadata"), count(t, e.db, "records_revisions"), count(t, e.db, "records_pids")}
	if after != before {
		t.Fatalf("rows (records, revisions, pids) %v -> %v after rollback", before, after)
	}
	_, err = e.recs.Get(ctx, rec.ID, records.IncludeDeleted())
	wantErr(t, err, records.ErrNotFound)
	_, err = e.pids.Get(ctx, "doi", "10.999/rollback")
	wantErr(t, err, pid.ErrNotFound)
	again, err := e.pids.MintRecid(ctx, pid.ObjectRecord, uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	if again.Value != minted.Value {
		t.Fatalf("after rollback the minter issued %s, want %s again", again.Value, minted.Value)
	}
}
