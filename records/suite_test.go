package records_test

import (
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
	})
}
