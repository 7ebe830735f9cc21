package records_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
)

// env is what each conformance case gets: one fresh database per dialect,
// shared by the cases (which run one after another, so row counts taken
// before and after a case are exact).
type env struct {
	d  sqldb.Dialect
	db *sqlx.DB
	s  *records.Store
}

// cases is the conformance suite; every case runs on every dialect.
var cases = []struct {
	name string
	fn   func(t *testing.T, e *env)
}{
	{"CreateGet", testCreateGet},
	{"CreateWithID", testCreateWithID},
	{"GetMany", testGetMany},
	{"Update", testUpdate},
	{"DeleteUndelete", testDeleteUndelete},
	{"Purge", testPurge},
	{"RevisionsRevert", testRevisionsRevert},
	{"Refs", testRefs},
	{"CreateMany", testCreateMany},
	{"WithTxCommit", testWithTxCommit},
	{"WithTxRollback", testWithTxRollback},
	{"BadInputCreate", testBadInputCreate},
	{"BadInputUpdate", testBadInputUpdate},
	{"UnknownID", testUnknownID},
	{"SchemaErrors", testSchemaErrors},
	{"SchemaRevert", testSchemaRevert},
	{"Hooks", testHooks},
	{"HookAmend", testHookAmend},
	{"HookVeto", testHookVeto},
	{"HookAfterRollsBack", testHookAfterRollsBack},
	{"ConcurrentUpdates", testConcurrentUpdates},
	{"Migrations", testMigrations},
}

// TestConformance runs the store suite on SQLite, and on PostgreSQL and
// MySQL/MariaDB when REPOKIT_TEST_POSTGRES_URL / REPOKIT_TEST_MYSQL_URL are
// set.
func TestConformance(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		db := sqldbtest.Fresh(t, d)
		e := &env{d: d, db: db, s: newStore(t, db)}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { c.fn(t, e) })
		}
		// The write and read paths again with plain (unprepared) queries.
		plain := &env{d: d, db: db, s: newStore(t, db, records.WithoutPreparedStatements())}
		for _, c := range cases {
			switch c.name {
			case "CreateGet", "Update", "DeleteUndelete", "WithTxRollback", "Hooks", "ConcurrentUpdates":
				t.Run("Plain"+c.name, func(t *testing.T) { c.fn(t, plain) })
			}
		}
	})
}

// TestOpenClose: a store from Open owns its database and Close closes it;
// a store from New leaves the host's database open; Close is idempotent.
func TestOpenClose(t *testing.T) {
	ctx := context.Background()
	url := sqldbtest.FreshURL(t, sqldb.SQLite)
	s, err := records.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	r := mustCreate(t, s, `{"a": 1}`)
	mustGet(t, s, r.ID)
	db := s.DB()
	s2 := newStore(t, db)
	mustGet(t, s2, r.ID)
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("closing a New store closed the host's DB: %v", err)
	}
	mustGet(t, s, r.ID)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.PingContext(ctx); err == nil {
		t.Fatal("DB still open after closing the store that opened it")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v (Close must be idempotent)", err)
	}
	if _, err := records.Open(ctx, "nosuch://x"); err == nil {
		t.Fatal("Open of a bad URL succeeded")
	}
}
