package records

import (
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// bulkRows is how many records one multi-row INSERT of CreateMany carries at
// most (bounded again by bulkBytes).
const (
	bulkRows  = 500
	bulkBytes = 4 << 20
)

// The schema (migration 0002): records_metadata holds every record's current
// revision, with the op that made it (its commit time is the record's
// updated time); records_revisions holds only the superseded revisions. A
// commit copies the current row into the history (inside the database, in
// the same transaction) before it overwrites it, so each document is stored
// once per revision, and a create writes one row.
const recordColumns = "id, json, revision, created, updated, deleted"

// historyColumns and currentColumns read a revision from either table, in
// scanRevision's order (the current revision was committed at updated).
const (
	historyColumns = "record_id, revision, json, deleted, op, committed"
	currentColumns = "id, revision, json, deleted, op, updated"
)

// queries holds every statement of the store, rebound for its dialect once.
type queries struct {
	// insert writes a new record (revision 0, op create): one row.
	insert       string
	get          string
	getForUpdate string
	// update writes the new state when the revision still matches. On
	// PostgreSQL it also copies the current row into the history in the same
	// statement (updateCopies); elsewhere copyCurrent runs first.
	update       string
	updateCopies bool
	// copyCurrent copies the current row of a record at a revision into the
	// history (arguments: id, revision).
	copyCurrent string
	// updateOne (PostgreSQL only) is a whole Update in one statement: it
	// locks the row at the expected revision, copies it into the history and
	// writes the new state; it returns the created time, or no row when the
	// record is missing, deleted or at another revision.
	updateOne string
	// revisions and revision read the history and the current row as one
	// statement (one snapshot), so a concurrent commit moving the current
	// row into the history neither hides nor repeats a revision.
	revisions      string
	revision       string
	refsFirst      string
	refsAfter      string
	purgeRevisions string
	purgeRecord    string
	getManyPrefix  string
	bulkFull       string // multi-row insert of bulkRows records
}

func buildQueries(db *sqlx.DB, d sqldb.Dialect) queries {
	rb := db.Rebind
	q := queries{
		insert:       rb("INSERT INTO records_metadata (id, json, revision, created, updated, deleted, op) VALUES (?, ?, 0, ?, ?, FALSE, 'create')"),
		get:          rb("SELECT " + recordColumns + " FROM records_metadata WHERE id = ?"),
		getForUpdate: rb("SELECT " + recordColumns + " FROM records_metadata WHERE id = ?" + sqldb.ForUpdate(d)),
		copyCurrent: rb("INSERT INTO records_revisions (" + historyColumns + ") SELECT " + currentColumns +
			" FROM records_metadata WHERE id = ? AND revision = ?"),
		revisions: rb("SELECT " + historyColumns + " FROM records_revisions WHERE record_id = ?" +
			" UNION ALL SELECT " + currentColumns + " FROM records_metadata WHERE id = ? ORDER BY revision"),
		revision: rb("SELECT " + currentColumns + " FROM records_metadata WHERE id = ? AND revision = ?" +
			" UNION ALL SELECT " + historyColumns + " FROM records_revisions WHERE record_id = ? AND revision = ?"),
		refsFirst:      rb("SELECT id, revision, deleted, updated FROM records_metadata ORDER BY id LIMIT ?"),
		refsAfter:      rb("SELECT id, revision, deleted, updated FROM records_metadata WHERE id > ? ORDER BY id LIMIT ?"),
		purgeRevisions: rb("DELETE FROM records_revisions WHERE record_id = ?"),
		purgeRecord:    rb("DELETE FROM records_metadata WHERE id = ?"),
		getManyPrefix:  "SELECT " + recordColumns + " FROM records_metadata WHERE id IN (?)",
	}
	if d == sqldb.Postgres {
		// The sub-statements of a WITH share one snapshot: h copies the row
		// as it was before the UPDATE. The row is already locked by the
		// caller's SELECT ... FOR UPDATE.
		// $1 json, $2 new revision, $3 time, $4 deleted, $5 id, $6 expected revision, $7 op.
		q.update = `WITH h AS (INSERT INTO records_revisions (` + historyColumns + `)
SELECT ` + currentColumns + ` FROM records_metadata WHERE id = $5 AND revision = $6)
UPDATE records_metadata SET json = $1, revision = $2, updated = $3, deleted = $4, op = $7
WHERE id = $5 AND revision = $6`
		q.updateCopies = true
		// old locks the row; if a concurrent commit moved it, the lock is
		// taken on the newest version and the WHERE is checked again on it
		// (READ COMMITTED), so old is empty unless that version is still at
		// the expected revision, and h copies exactly the state u replaces.
		// $1 json, $2 time, $3 id, $4 expected revision.
		q.updateOne = `WITH old AS (SELECT ` + currentColumns + ` FROM records_metadata
WHERE id = $3 AND revision = $4 AND NOT deleted FOR UPDATE),
h AS (INSERT INTO records_revisions (` + historyColumns + `) SELECT ` + currentColumns + ` FROM old),
u AS (UPDATE records_metadata m SET json = $1, revision = old.revision + 1, updated = $2, op = 'update'
FROM old WHERE m.id = old.id RETURNING m.created)
SELECT created FROM u`
	} else {
		q.update = rb("UPDATE records_metadata SET json = ?, revision = ?, updated = ?, deleted = ?, op = ? WHERE id = ? AND revision = ?")
	}
	q.bulkFull = bulkInsert(db, bulkRows)
	return q
}

// bulkInsert returns the multi-row insert of n new records (revision 0, op
// create). Arguments per record: id, json, created, updated.
func bulkInsert(db *sqlx.DB, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO records_metadata (id, json, revision, created, updated, deleted, op) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, 0, ?, ?, FALSE, 'create')")
	}
	return db.Rebind(b.String())
}
