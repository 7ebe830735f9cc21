package records_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
)

// TestConcurrentMigrations: several "processes" (separate connection
// pools) open a store on the same empty database at once; every one
// succeeds and the migration is applied exactly once.
func TestConcurrentMigrations(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		url := sqldbtest.FreshURL(t, d)
		const n = 4
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := records.Open(ctx, url)
				if err != nil {
					errs <- err
					return
				}
				defer s.Close()
				if _, err := s.Create(ctx, []byte(`{"ok": true}`)); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		s, err := records.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := count(t, s.DB(), "records_metadata"); got != n {
			t.Fatalf("%d records, want %d", got, n)
		}
		if got, want := count(t, s.DB(), "repokit_migrations WHERE component = 'records'"), migrationCount(t, d); got != want {
			t.Fatalf("%d records migrations recorded, want each of the %d once", got, want)
		}
	})
}

// migrationCount is how many records migrations dialect d has.
func migrationCount(t testing.TB, d sqldb.Dialect) int {
	t.Helper()
	migs, err := sqldb.LoadMigrations(records.Migrations(), d)
	if err != nil {
		t.Fatal(err)
	}
	return len(migs)
}

// v1Revision is one revision as the first schema stored it: every revision,
// the current one included, had a history row with its document.
type v1Revision struct {
	doc     string
	deleted bool
	op      records.Op
}

// TestMigrateFromV1: a database written with the first schema (every
// revision, the current one included, copied into records_revisions) is
// migrated by New without losing a revision: every revision reads back
// with its document, deleted flag, op and commit time, the duplicate copies
// of the current revisions are gone, and the store keeps working on it.
// Running the data statements of the migration again changes nothing (on
// MySQL, a migration interrupted by a crash runs again).
func TestMigrateFromV1(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		db := sqldbtest.Fresh(t, d)
		v1 := fstest.MapFS{}
		for _, dir := range []string{"sqlite", "postgres", "mysql"} {
			body, err := fs.ReadFile(records.Migrations(), dir+"/0001_init.sql")
			if err != nil {
				t.Fatal(err)
			}
			v1[dir+"/0001_init.sql"] = &fstest.MapFile{Data: body}
		}
		if err := sqldb.Migrate(ctx, db, "records", v1); err != nil {
			t.Fatal(err)
		}
		histories := [][]v1Revision{
			{{`{"t": "created only"}`, false, records.OpCreate}},
			{{`{"t": "v0"}`, false, records.OpCreate}, {`{"t": "v1"}`, false, records.OpUpdate}, {`{"t": "v2"}`, false, records.OpUpdate}},
			{{`{"t": "gone"}`, false, records.OpCreate}, {`{"t": "gone"}`, true, records.OpDelete}},
			{{`{"t": "a"}`, false, records.OpCreate}, {`{"t": "b"}`, false, records.OpUpdate}, {`{"t": "b"}`, true, records.OpDelete},
				{`{"t": "b"}`, false, records.OpUndelete}, {`{"t": "a"}`, false, records.OpRevert}},
		}
		t0 := time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC)
		at := func(rec, rev int) time.Time {
			return t0.Add(time.Duration(rec)*time.Hour + time.Duration(rev)*time.Minute)
		}
		ids := make([]uuid.UUID, len(histories))
		insRec := db.Rebind("INSERT INTO records_metadata (id, json, revision, created, updated, deleted) VALUES (?, ?, ?, ?, ?, ?)")
		insRev := db.Rebind("INSERT INTO records_revisions (record_id, revision, json, deleted, op, committed) VALUES (?, ?, ?, ?, ?, ?)")
		total := 0
		for i, h := range histories {
			ids[i] = uuid.Must(uuid.NewV7())
			for n, r := range h {
				if _, err := db.ExecContext(ctx, insRev, ids[i].String(), n, r.doc, r.deleted, string(r.op), at(i, n)); err != nil {
					t.Fatal(err)
				}
				total++
			}
			cur := h[len(h)-1]
			if _, err := db.ExecContext(ctx, insRec, ids[i].String(), cur.doc, len(h)-1, at(i, 0), at(i, len(h)-1), cur.deleted); err != nil {
				t.Fatal(err)
			}
		}

		s, err := records.New(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		check := func(t *testing.T) {
			t.Helper()
			for i, h := range histories {
				revs, err := s.Revisions(ctx, ids[i])
				if err != nil {
					t.Fatal(err)
				}
				if len(revs) != len(h) {
					t.Fatalf("record %d: %d revisions after the migration, want %d", i, len(revs), len(h))
				}
				for n, want := range h {
					for _, got := range []*records.Revision{revs[n], mustRevision(t, s, ids[i], int64(n))} {
						if got.RecordID != ids[i] || got.Revision != int64(n) || got.Deleted != want.deleted || got.Op != want.op || !got.Committed.Equal(at(i, n)) {
							t.Fatalf("record %d revision %d = %+v, want %+v committed %v", i, n, got, want, at(i, n))
						}
						jsonEqual(t, got.JSON, want.doc)
					}
				}
				cur := mustGet(t, s, ids[i], records.IncludeDeleted())
				if cur.Revision != int64(len(h)-1) || cur.Deleted != h[len(h)-1].deleted || !cur.Updated.Equal(at(i, len(h)-1)) || !cur.Created.Equal(at(i, 0)) {
					t.Fatalf("record %d = %+v after the migration", i, cur)
				}
				jsonEqual(t, cur.JSON, h[len(h)-1].doc)
			}
			if got, want := count(t, db, "records_revisions"), total-len(histories); got != want {
				t.Fatalf("%d history rows after the migration, want %d (the superseded revisions only)", got, want)
			}
		}
		check(t)

		migs, err := sqldb.LoadMigrations(records.Migrations(), d)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range migs[1].Statements {
			if d == sqldb.SQLite && strings.Contains(st, "ALTER TABLE") {
				continue // SQLite runs the migration in one transaction
			}
			if _, err := db.ExecContext(ctx, st); err != nil {
				t.Fatalf("migration 0002 again: %v", err)
			}
		}
		check(t)

		// The store writes on the migrated database as on a new one.
		u, err := s.Update(ctx, ids[1], json.RawMessage(`{"t": "v3"}`), 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Undelete(ctx, ids[2]); err != nil {
			t.Fatal(err)
		}
		histories[1] = append(histories[1], v1Revision{`{"t": "v3"}`, false, records.OpUpdate})
		histories[2] = append(histories[2], v1Revision{`{"t": "gone"}`, false, records.OpUndelete})
		for _, want := range []int{1, 2} {
			revs, err := s.Revisions(ctx, ids[want])
			if err != nil {
				t.Fatal(err)
			}
			if len(revs) != len(histories[want]) {
				t.Fatalf("record %d: %d revisions, want %d", want, len(revs), len(histories[want]))
			}
			for n, r := range histories[want] {
				if revs[n].Op != r.op || revs[n].Deleted != r.deleted {
					t.Fatalf("record %d revision %d = %+v, want %+v", want, n, revs[n], r)
				}
				jsonEqual(t, revs[n].JSON, r.doc)
			}
		}
		if !mustRevision(t, s, ids[1], 3).Committed.Equal(u.Updated) {
			t.Fatal("the new revision's commit time is not the record's updated time")
		}
		if got, want := count(t, db, "records_revisions"), total-len(histories)+2; got != want {
			t.Fatalf("%d history rows, want %d", got, want)
		}
	})
}

func mustRevision(t testing.TB, s *records.Store, id uuid.UUID, n int64) *records.Revision {
	t.Helper()
	r, err := s.Revision(context.Background(), id, n)
	if err != nil {
		t.Fatalf("Revision(%s, %d): %v", id, n, err)
	}
	return r
}
