package records_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/repokit/repokit/records"
)

func testCreateGet(t *testing.T, e *env) {
	ctx := context.Background()
	before := snap(t, e.db)
	t0 := time.Now().UTC().Add(-time.Second)
	r := mustCreate(t, e.s, `{"title": "Hello", "n": 1, "nested": {"a": [1, 2, "x"]}}`)
	if r.ID == uuid.Nil || r.Revision != 0 || r.Deleted {
		t.Fatalf("created = %+v, want new id, revision 0, not deleted", r)
	}
	if r.Created.Location() != time.UTC || !r.Created.Equal(r.Updated) || r.Created.Before(t0) {
		t.Fatalf("created %v updated %v: want equal UTC times after %v", r.Created, r.Updated, t0)
	}
	got := mustGet(t, e.s, r.ID)
	if got.ID != r.ID || got.Revision != 0 || got.Deleted || !got.Created.Equal(r.Created) || !got.Updated.Equal(r.Updated) {
		t.Fatalf("Get = %+v, want %+v", got, r)
	}
	if got.Created.Location() != time.UTC {
		t.Fatalf("Get created location = %v, want UTC", got.Created.Location())
	}
	jsonEqual(t, got.JSON, `{"title": "Hello", "n": 1, "nested": {"a": [1, 2, "x"]}}`)
	after := snap(t, e.db)
	// Revision 0 is the record's row: the history holds only superseded
	// revisions, so a create writes no history row (and no second copy).
	if after.records != before.records+1 || after.revisions != before.revisions {
		t.Fatalf("rows %+v -> %+v, want one record more and no history row", before, after)
	}
	revs, err := e.s.Revisions(ctx, r.ID)
	if err != nil || len(revs) != 1 || revs[0].Revision != 0 || revs[0].Op != records.OpCreate || !revs[0].Committed.Equal(r.Created) {
		t.Fatalf("Revisions = %+v, %v; want one create revision", revs, err)
	}
}

func testCreateWithID(t *testing.T, e *env) {
	ctx := context.Background()
	id := uuid.New()
	r := mustCreate(t, e.s, `{"a": 1}`, records.WithID(id))
	if r.ID != id {
		t.Fatalf("ID = %s, want %s", r.ID, id)
	}
	before := snap(t, e.db)
	_, err := e.s.Create(ctx, json.RawMessage(`{"a": 2}`), records.WithID(id))
	wantErr(t, err, records.ErrConflict)
	unchanged(t, e.db, before)
	jsonEqual(t, mustGet(t, e.s, id).JSON, `{"a": 1}`)
}

func testGetMany(t *testing.T, e *env) {
	ctx := context.Background()
	a := mustCreate(t, e.s, `{"k": "a"}`)
	b := mustCreate(t, e.s, `{"k": "b"}`)
	c := mustCreate(t, e.s, `{"k": "c"}`)
	if _, err := e.s.Delete(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	missing := uuid.New()
	got, err := e.s.GetMany(ctx, []uuid.UUID{b.ID, missing, a.ID, c.ID, b.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != b.ID || got[1].ID != a.ID {
		t.Fatalf("GetMany = %v, want [b a]", ids(got))
	}
	jsonEqual(t, got[0].JSON, `{"k": "b"}`)
	got, err = e.s.GetMany(ctx, []uuid.UUID{c.ID, a.ID}, records.IncludeDeleted())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != c.ID || !got[0].Deleted || got[1].ID != a.ID {
		t.Fatalf("GetMany(IncludeDeleted) = %v, want [c a]", ids(got))
	}
	got, err = e.s.GetMany(ctx, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("GetMany(nil) = %v, %v", got, err)
	}
}

func ids(rs []*records.Record) []uuid.UUID {
	out := make([]uuid.UUID, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func testUpdate(t *testing.T, e *env) {
	ctx := context.Background()
	r := mustCreate(t, e.s, `{"v": 0}`)
	time.Sleep(2 * time.Millisecond)
	u, err := e.s.Update(ctx, r.ID, json.RawMessage(`{"v": 1}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	if u.Revision != 1 || !u.Created.Equal(r.Created) || !u.Updated.After(r.Updated) {
		t.Fatalf("Update = %+v, want revision 1, same created, later updated", u)
	}
	got := mustGet(t, e.s, r.ID)
	jsonEqual(t, got.JSON, `{"v": 1}`)
	if got.Revision != 1 || !got.Updated.Equal(u.Updated) {
		t.Fatalf("Get after update = %+v", got)
	}
	// A stale revision never overwrites.
	before := snap(t, e.db)
	_, err = e.s.Update(ctx, r.ID, json.RawMessage(`{"v": "stale"}`), 0)
	wantErr(t, err, records.ErrConflict)
	_, err = e.s.Update(ctx, r.ID, json.RawMessage(`{"v": "future"}`), 7)
	wantErr(t, err, records.ErrConflict)
	unchanged(t, e.db, before)
	jsonEqual(t, mustGet(t, e.s, r.ID).JSON, `{"v": 1}`)
	u2, err := e.s.Update(ctx, r.ID, json.RawMessage(`{"v": 2}`), 1)
	if err != nil || u2.Revision != 2 {
		t.Fatalf("Update at 1 = %+v, %v", u2, err)
	}
}

func testDeleteUndelete(t *testing.T, e *env) {
	ctx := context.Background()
	r := mustCreate(t, e.s, `{"keep": "me"}`)
	d, err := e.s.Delete(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Deleted || d.Revision != 1 {
		t.Fatalf("Delete = %+v, want deleted at revision 1", d)
	}
	_, err = e.s.Get(ctx, r.ID)
	wantErr(t, err, records.ErrDeleted, records.ErrNotFound)
	got := mustGet(t, e.s, r.ID, records.IncludeDeleted())
	if !got.Deleted || got.Revision != 1 {
		t.Fatalf("Get(IncludeDeleted) = %+v", got)
	}
	jsonEqual(t, got.JSON, `{"keep": "me"}`) // soft delete keeps the JSON

	before := snap(t, e.db)
	_, err = e.s.Delete(ctx, r.ID)
	wantErr(t, err, records.ErrDeleted)
	_, err = e.s.Update(ctx, r.ID, json.RawMessage(`{"x": 1}`), 1)
	wantErr(t, err, records.ErrDeleted)
	_, err = e.s.Revert(ctx, r.ID, 0)
	wantErr(t, err, records.ErrDeleted)
	_, err = e.s.Undelete(ctx, r.ID, records.IfRevision(0))
	wantErr(t, err, records.ErrConflict)
	unchanged(t, e.db, before)

	u, err := e.s.Undelete(ctx, r.ID, records.IfRevision(1))
	if err != nil {
		t.Fatal(err)
	}
	if u.Deleted || u.Revision != 2 {
		t.Fatalf("Undelete = %+v", u)
	}
	got = mustGet(t, e.s, r.ID)
	jsonEqual(t, got.JSON, `{"keep": "me"}`)
	_, err = e.s.Undelete(ctx, r.ID)
	wantErr(t, err, records.ErrConflict)
	_, err = e.s.Delete(ctx, r.ID, records.IfRevision(1))
	wantErr(t, err, records.ErrConflict)

	revs, err := e.s.Revisions(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantOps(t, revs, records.OpCreate, records.OpDelete, records.OpUndelete)
	if !revs[1].Deleted || revs[2].Deleted {
		t.Fatalf("revision deleted flags = %v %v", revs[1].Deleted, revs[2].Deleted)
	}
}

func wantOps(t *testing.T, revs []*records.Revision, ops ...records.Op) {
	t.Helper()
	var got []records.Op
	for i, r := range revs {
		if r.Revision != int64(i) {
			t.Fatalf("revision %d has number %d", i, r.Revision)
		}
		got = append(got, r.Op)
	}
	if !slices.Equal(got, ops) {
		t.Fatalf("ops = %v, want %v", got, ops)
	}
}

func testPurge(t *testing.T, e *env) {
	ctx := context.Background()
	r := mustCreate(t, e.s, `{"p": 1}`)
	if _, err := e.s.Update(ctx, r.ID, json.RawMessage(`{"p": 2}`), 0); err != nil {
		t.Fatal(err)
	}
	other := mustCreate(t, e.s, `{"other": true}`)
	before := snap(t, e.db)
	if err := e.s.Purge(ctx, r.ID, records.IfRevision(0)); err == nil {
		t.Fatal("Purge with stale revision succeeded")
	}
	unchanged(t, e.db, before)
	if err := e.s.Purge(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	after := snap(t, e.db)
	// Revision 1 was the record's row; revision 0 was in the history.
	if after.records != before.records-1 || after.revisions != before.revisions-1 {
		t.Fatalf("rows %+v -> %+v, want 1 record and 1 history row fewer", before, after)
	}
	_, err := e.s.Get(ctx, r.ID, records.IncludeDeleted())
	wantErr(t, err, records.ErrNotFound)
	_, err = e.s.Revisions(ctx, r.ID)
	wantErr(t, err, records.ErrNotFound)
	wantErr(t, e.s.Purge(ctx, r.ID), records.ErrNotFound)
	mustGet(t, e.s, other.ID)

	// A deleted record can be purged too.
	d := mustCreate(t, e.s, `{"d": 1}`)
	if _, err := e.s.Delete(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Purge(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Get(ctx, d.ID, records.IncludeDeleted())
	wantErr(t, err, records.ErrNotFound)
}

func testRevisionsRevert(t *testing.T, e *env) {
	ctx := context.Background()
	r := mustCreate(t, e.s, `{"title": "v0"}`)
	for i := 1; i <= 2; i++ {
		if _, err := e.s.Update(ctx, r.ID, json.RawMessage(fmt.Sprintf(`{"title": "v%d"}`, i)), int64(i-1)); err != nil {
			t.Fatal(err)
		}
	}
	revs, err := e.s.Revisions(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantOps(t, revs, records.OpCreate, records.OpUpdate, records.OpUpdate)
	for i, rev := range revs {
		if rev.RecordID != r.ID {
			t.Fatalf("revision %d record id = %s", i, rev.RecordID)
		}
		jsonEqual(t, rev.JSON, fmt.Sprintf(`{"title": "v%d"}`, i))
		if i > 0 && rev.Committed.Before(revs[i-1].Committed) {
			t.Fatalf("revision %d committed before revision %d", i, i-1)
		}
	}
	one, err := e.s.Revision(ctx, r.ID, 1)
	if err != nil || one.Revision != 1 {
		t.Fatalf("Revision(1) = %+v, %v", one, err)
	}
	jsonEqual(t, one.JSON, `{"title": "v1"}`)
	_, err = e.s.Revision(ctx, r.ID, 9)
	wantErr(t, err, records.ErrNotFound)

	before := snap(t, e.db)
	_, err = e.s.Revert(ctx, r.ID, 9)
	wantErr(t, err, records.ErrNotFound)
	_, err = e.s.Revert(ctx, r.ID, 0, records.IfRevision(1))
	wantErr(t, err, records.ErrConflict)
	unchanged(t, e.db, before)

	rv, err := e.s.Revert(ctx, r.ID, 0, records.IfRevision(2))
	if err != nil {
		t.Fatal(err)
	}
	if rv.Revision != 3 {
		t.Fatalf("Revert revision = %d, want 3", rv.Revision)
	}
	jsonEqual(t, mustGet(t, e.s, r.ID).JSON, `{"title": "v0"}`)
	revs, err = e.s.Revisions(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantOps(t, revs, records.OpCreate, records.OpUpdate, records.OpUpdate, records.OpRevert)
	jsonEqual(t, revs[3].JSON, `{"title": "v0"}`)
}

func testRefs(t *testing.T, e *env) {
	ctx := context.Background()
	docs := make([]json.RawMessage, 2100) // more than two keyset pages
	for i := range docs {
		docs[i] = json.RawMessage(fmt.Sprintf(`{"i": %d}`, i))
	}
	created, err := e.s.CreateMany(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Delete(ctx, created[5].ID); err != nil {
		t.Fatal(err)
	}
	var refs []records.Ref
	for ref, err := range e.s.Refs(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	if n := count(t, e.db, "records_metadata"); len(refs) != n {
		t.Fatalf("Refs gave %d refs, table has %d rows", len(refs), n)
	}
	byID := map[uuid.UUID]records.Ref{}
	for i, ref := range refs {
		if i > 0 && ref.ID.String() <= refs[i-1].ID.String() {
			t.Fatalf("refs not ordered by id at %d: %s after %s", i, ref.ID, refs[i-1].ID)
		}
		byID[ref.ID] = ref
	}
	del := byID[created[5].ID]
	if !del.Deleted || del.Revision != 1 || del.Updated.IsZero() {
		t.Fatalf("deleted ref = %+v", del)
	}
	if r := byID[created[6].ID]; r.Deleted || r.Revision != 0 {
		t.Fatalf("ref = %+v", r)
	}
	// Breaking out early stops the iteration.
	n := 0
	for range e.s.Refs(ctx) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Fatalf("early break: n = %d", n)
	}
}

func testCreateMany(t *testing.T, e *env) {
	ctx := context.Background()
	before := snap(t, e.db)
	docs := make([]json.RawMessage, 1203)
	for i := range docs {
		docs[i] = json.RawMessage(fmt.Sprintf(`{"title": "bulk %d", "$schema": %q}`, i, articleSchemaURI))
	}
	recs, err := e.s.CreateMany(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(docs) {
		t.Fatalf("CreateMany returned %d records", len(recs))
	}
	after := snap(t, e.db)
	if after.records != before.records+len(docs) || after.revisions != before.revisions {
		t.Fatalf("rows %+v -> %+v, want %d records more and no history rows", before, after, len(docs))
	}
	got := mustGet(t, e.s, recs[1000].ID)
	jsonEqual(t, got.JSON, string(docs[1000]))
	rev, err := e.s.Revision(ctx, recs[1202].ID, 0)
	if err != nil || rev.Op != records.OpCreate {
		t.Fatalf("Revision 0 = %+v, %v", rev, err)
	}
	jsonEqual(t, rev.JSON, string(docs[1202]))

	// One bad document: nothing written, the error names it.
	before = after
	docs[700] = json.RawMessage(`{"title": "", "$schema": "` + articleSchemaURI + `"}`)
	_, err = e.s.CreateMany(ctx, docs)
	wantErr(t, err, records.ErrSchema, records.ErrInvalid)
	if want := "document 700"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name %q", err, want)
	}
	unchanged(t, e.db, before)
	// Several bad documents (validated in parallel): the first one is named.
	docs[1150] = docs[700]
	docs[300] = json.RawMessage(`[]`)
	_, err = e.s.CreateMany(ctx, docs)
	wantErr(t, err, records.ErrInvalid)
	if want := "document 300:"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name %q", err, want)
	}
	unchanged(t, e.db, before)
}

func testWithTxCommit(t *testing.T, e *env) {
	ctx := context.Background()
	tx, err := e.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ts := e.s.WithTx(tx)
	r, err := ts.Create(ctx, json.RawMessage(`{"tx": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Update(ctx, r.ID, json.RawMessage(`{"tx": 2}`), 0); err != nil {
		t.Fatal(err)
	}
	got, err := ts.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, got.JSON, `{"tx": 2}`)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got = mustGet(t, e.s, r.ID)
	if got.Revision != 1 {
		t.Fatalf("revision = %d, want 1", got.Revision)
	}
}

func testWithTxRollback(t *testing.T, e *env) {
	ctx := context.Background()
	existing := mustCreate(t, e.s, `{"before": true}`)
	before := snap(t, e.db)
	tx, err := e.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := e.s.WithTx(tx)
	r, err := ts.Create(ctx, json.RawMessage(`{"tx": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.CreateMany(ctx, []json.RawMessage{[]byte(`{"m": 1}`), []byte(`{"m": 2}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Update(ctx, existing.ID, json.RawMessage(`{"before": false}`), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Delete(ctx, existing.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	unchanged(t, e.db, before)
	_, err = e.s.Get(ctx, r.ID, records.IncludeDeleted())
	wantErr(t, err, records.ErrNotFound)
	got := mustGet(t, e.s, existing.ID)
	if got.Revision != 0 {
		t.Fatalf("existing revision = %d after rollback", got.Revision)
	}
	jsonEqual(t, got.JSON, `{"before": true}`)
}

func testUnknownID(t *testing.T, e *env) {
	ctx := context.Background()
	id := uuid.New()
	before := snap(t, e.db)
	_, err := e.s.Get(ctx, id)
	wantErr(t, err, records.ErrNotFound)
	_, err = e.s.Update(ctx, id, json.RawMessage(`{}`), 0)
	wantErr(t, err, records.ErrNotFound)
	_, err = e.s.Delete(ctx, id)
	wantErr(t, err, records.ErrNotFound)
	_, err = e.s.Undelete(ctx, id)
	wantErr(t, err, records.ErrNotFound)
	_, err = e.s.Revert(ctx, id, 0)
	wantErr(t, err, records.ErrNotFound)
	_, err = e.s.Revision(ctx, id, 0)
	wantErr(t, err, records.ErrNotFound)
	wantErr(t, e.s.Purge(ctx, id), records.ErrNotFound)
	unchanged(t, e.db, before)
}

func testMigrations(t *testing.T, e *env) {
	// A second store on the same database migrates nothing and sees the data.
	r := mustCreate(t, e.s, `{"m": 1}`)
	s2 := newStore(t, e.db)
	mustGet(t, s2, r.ID)
	var n int
	if err := e.db.Get(&n, e.db.Rebind("SELECT COUNT(*) FROM repokit_migrations WHERE component = ?"), "records"); err != nil {
		t.Fatal(err)
	}
	if want := migrationCount(t, e.d); n != want {
		t.Fatalf("records migrations applied = %d, want %d", n, want)
	}
}
