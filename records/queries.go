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

const recordColumns = "id, json, revision, created, updated, deleted"

// queries holds every statement of the store, rebound for its dialect once.
type queries struct {
	// insert writes a new record; on PostgreSQL it also writes revision 0
	// in the same statement (a data-modifying CTE: one round trip).
	insert          string
	insertWritesRev bool
	insertRevision  string
	get             string
	getForUpdate    string
	// update writes the new state when the revision still matches; on
	// PostgreSQL it also writes the revision row.
	update          string
	updateWritesRev bool
	// updateOne (PostgreSQL only) is a whole Update in one statement: the
	// conditional UPDATE and the history row; it returns the created time,
	// or no row when the record is missing, deleted or at another revision.
	updateOne      string
	revisions      string
	revision       string
	refsFirst      string
	refsAfter      string
	purgeRevisions string
	purgeRecord    string
	getManyPrefix  string
	bulkFull       string // multi-row insert of bulkRows records
	bulkRevFull    string // multi-row insert of bulkRows revision rows
}

func buildQueries(db *sqlx.DB, d sqldb.Dialect) queries {
	rb := db.Rebind
	q := queries{
		insertRevision: rb("INSERT INTO records_revisions (record_id, revision, json, deleted, op, committed) VALUES (?, ?, ?, ?, ?, ?)"),
		get:            rb("SELECT " + recordColumns + " FROM records_metadata WHERE id = ?"),
		getForUpdate:   rb("SELECT " + recordColumns + " FROM records_metadata WHERE id = ?" + sqldb.ForUpdate(d)),
		revisions:      rb("SELECT record_id, revision, json, deleted, op, committed FROM records_revisions WHERE record_id = ? ORDER BY revision"),
		revision:       rb("SELECT record_id, revision, json, deleted, op, committed FROM records_revisions WHERE record_id = ? AND revision = ?"),
		refsFirst:      rb("SELECT id, revision, deleted, updated FROM records_metadata ORDER BY id LIMIT ?"),
		refsAfter:      rb("SELECT id, revision, deleted, updated FROM records_metadata WHERE id > ? ORDER BY id LIMIT ?"),
		purgeRevisions: rb("DELETE FROM records_revisions WHERE record_id = ?"),
		purgeRecord:    rb("DELETE FROM records_metadata WHERE id = ?"),
		getManyPrefix:  "SELECT " + recordColumns + " FROM records_metadata WHERE id IN (?)",
	}
	if d == sqldb.Postgres {
		// $1 id, $2 json, $3 time.
		q.insert = `WITH r AS (INSERT INTO records_metadata (id, json, revision, created, updated, deleted)
VALUES ($1, $2, 0, $3, $3, FALSE) RETURNING id)
INSERT INTO records_revisions (record_id, revision, json, deleted, op, committed)
SELECT id, 0, $2, FALSE, 'create', $3 FROM r`
		q.insertWritesRev = true
		// $1 json, $2 new revision, $3 time, $4 deleted, $5 id, $6 expected revision, $7 op.
		q.update = `WITH u AS (UPDATE records_metadata SET json = $1, revision = $2, updated = $3, deleted = $4
WHERE id = $5 AND revision = $6 RETURNING id)
INSERT INTO records_revisions (record_id, revision, json, deleted, op, committed)
SELECT id, $2, $1, $4, $7, $3 FROM u`
		q.updateWritesRev = true
		// $1 json, $2 time, $3 id, $4 expected revision.
		q.updateOne = `WITH u AS (UPDATE records_metadata SET json = $1, revision = revision + 1, updated = $2
WHERE id = $3 AND revision = $4 AND NOT deleted RETURNING id, revision, created),
h AS (INSERT INTO records_revisions (record_id, revision, json, deleted, op, committed)
SELECT id, revision, $1, FALSE, 'update', $2 FROM u)
SELECT created FROM u`
	} else {
		q.insert = rb("INSERT INTO records_metadata (id, json, revision, created, updated, deleted) VALUES (?, ?, 0, ?, ?, FALSE)")
		q.update = rb("UPDATE records_metadata SET json = ?, revision = ?, updated = ?, deleted = ? WHERE id = ? AND revision = ?")
	}
	q.bulkFull = bulkInsert(db, d, bulkRows)
	if d != sqldb.Postgres {
		q.bulkRevFull = bulkRevisions(db, bulkRows)
	}
	return q
}

// bulkInsert returns the multi-row insert of n new records. On PostgreSQL
// it writes the revision rows in the same statement; elsewhere it is
// followed by bulkRevisions. Arguments per record: id, json, time.
func bulkInsert(db *sqlx.DB, d sqldb.Dialect, n int) string {
	var b strings.Builder
	if d == sqldb.Postgres {
		b.WriteString("WITH r AS (")
	}
	b.WriteString("INSERT INTO records_metadata (id, json, revision, created, updated, deleted) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, 0, ?, ?, FALSE)")
	}
	if d == sqldb.Postgres {
		b.WriteString(" RETURNING id, json, created) INSERT INTO records_revisions (record_id, revision, json, deleted, op, committed) SELECT id, 0, json, FALSE, 'create', created FROM r")
	}
	return db.Rebind(b.String())
}

// bulkRevisions returns the multi-row insert of n revision-0 rows.
// Arguments per record: id, json, time.
func bulkRevisions(db *sqlx.DB, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO records_revisions (record_id, revision, json, deleted, op, committed) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, 0, ?, FALSE, 'create', ?)")
	}
	return db.Rebind(b.String())
}
