package records_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
)

// Benchmarks compare the store with raw sqlx doing the same work on the
// same database, per dialect: SQLite always, PostgreSQL and MySQL when
// their URLs are set (skipped otherwise). Run:
//
//	go test -run '^$' -bench . -benchtime 2000x ./records

// benchDoc is a typical ~1 KiB bibliographic record.
var benchDoc = json.RawMessage(`{"title": "On the electrodynamics of moving bodies: a benchmark record with a reasonably long title",
"creators": [{"name": "Einstein, Albert", "affiliation": "Patent Office, Bern", "orcid": "0000-0000-0000-0001"},
{"name": "Doe, Jane", "affiliation": "CERN", "orcid": "0000-0000-0000-0002"}],
"publication_date": "1905-06-30", "resource_type": {"type": "publication", "subtype": "article"},
"description": "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur.",
"keywords": ["relativity", "electrodynamics", "physics", "benchmark"], "access_right": "open", "license": "cc-by-4.0",
"related_identifiers": [{"identifier": "10.1002/andp.19053221004", "relation": "isIdenticalTo", "scheme": "doi"}],
"version": "1.0", "language": "deu"}`)

// baselineDDL is a table equivalent to records_metadata.
var baselineDDL = map[sqldb.Dialect]string{
	sqldb.Postgres: `CREATE TABLE bench_records (id UUID PRIMARY KEY, json JSONB NOT NULL, revision BIGINT NOT NULL,
		created TIMESTAMPTZ NOT NULL, updated TIMESTAMPTZ NOT NULL, deleted BOOLEAN NOT NULL DEFAULT FALSE)`,
	sqldb.MySQL: `CREATE TABLE bench_records (id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
		json JSON NOT NULL, revision BIGINT NOT NULL, created DATETIME(6) NOT NULL, updated DATETIME(6) NOT NULL,
		deleted BOOLEAN NOT NULL DEFAULT FALSE) ENGINE=InnoDB`,
	sqldb.SQLite: `CREATE TABLE bench_records (id TEXT NOT NULL PRIMARY KEY, json TEXT NOT NULL, revision INTEGER NOT NULL,
		created TIMESTAMP NOT NULL, updated TIMESTAMP NOT NULL, deleted BOOLEAN NOT NULL DEFAULT 0)`,
}

type benchEnv struct {
	d      sqldb.Dialect
	db     *sqlx.DB
	s      *records.Store
	insert string
	get    string
}

func benchDialects(b *testing.B, fn func(b *testing.B, e *benchEnv)) {
	for _, d := range sqldbtest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			fn(b, newBenchEnv(b, d))
		})
	}
}

// newBenchEnv returns a fresh database of dialect d with the store and the
// baseline table (skipping when the dialect's URL is not set).
func newBenchEnv(b *testing.B, d sqldb.Dialect) *benchEnv {
	b.Helper()
	if d == sqldb.Postgres && os.Getenv(sqldbtest.PostgresEnv) == "" || d == sqldb.MySQL && os.Getenv(sqldbtest.MySQLEnv) == "" {
		b.Skipf("%s URL not set", d)
	}
	db := sqldbtest.Fresh(b, d)
	if _, err := db.Exec(baselineDDL[d]); err != nil {
		b.Fatal(err)
	}
	s, err := records.New(context.Background(), db)
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{
		d: d, db: db, s: s,
		insert: db.Rebind("INSERT INTO bench_records (id, json, revision, created, updated, deleted) VALUES (?, ?, 0, ?, ?, FALSE)"),
		get:    db.Rebind("SELECT id, json, revision, created, updated, deleted FROM bench_records WHERE id = ?"),
	}
}

// BenchmarkCreate: one record per transaction. Both write one row: the
// store's history holds only superseded revisions.
func BenchmarkCreate(b *testing.B) {
	benchDialects(b, func(b *testing.B, e *benchEnv) {
		ctx := context.Background()
		doc := string(benchDoc)
		b.Run("baseline", func(b *testing.B) {
			for b.Loop() {
				tx, err := e.db.BeginTxx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				now := time.Now().UTC()
				if _, err := tx.ExecContext(ctx, e.insert, uuid.Must(uuid.NewV7()).String(), doc, now, now); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("repokit", func(b *testing.B) {
			for b.Loop() {
				if _, err := e.s.Create(ctx, benchDoc); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkGet: read one record by id, out of 1000.
func BenchmarkGet(b *testing.B) {
	benchDialects(b, func(b *testing.B, e *benchEnv) {
		ctx := context.Background()
		const n = 1000
		docs := make([]json.RawMessage, n)
		for i := range docs {
			docs[i] = benchDoc
		}
		recs, err := e.s.CreateMany(ctx, docs)
		if err != nil {
			b.Fatal(err)
		}
		ids := make([]uuid.UUID, n)
		now := time.Now().UTC()
		for i := range ids {
			ids[i] = recs[i].ID
			if _, err := e.db.ExecContext(ctx, e.insert, ids[i].String(), string(benchDoc), now, now); err != nil {
				b.Fatal(err)
			}
		}
		b.Run("baseline", func(b *testing.B) {
			i := 0
			for b.Loop() {
				var (
					id               uuid.UUID
					doc              []byte
					rev              int64
					created, updated time.Time
					deleted          bool
				)
				if err := e.db.QueryRowxContext(ctx, e.get, ids[i%n].String()).Scan(&id, &doc, &rev, &created, &updated, &deleted); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("repokit", func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := e.s.Get(ctx, ids[i%n]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
}

// BenchmarkBulkCreate: 10,000 records per operation, in one transaction,
// with multi-row INSERTs of 500 rows. Reports docs/s, and on SQLite the
// database bytes per record (disk-B/rec: pages in use, WAL included). The
// baseline writes the same JSON into an equivalent table without history;
// the store writes one row per record too (revision 0 is the record's row
// until a commit supersedes it), plus its checks and hooks. Each sub-benchmark
// has its own fresh database, so neither pays for the other's writes (on
// SQLite, a WAL checkpoint of the baseline's pages would otherwise land in
// the repokit run).
func BenchmarkBulkCreate(b *testing.B) {
	const n, batch = 10000, 500
	docs := make([]json.RawMessage, n)
	for i := range docs {
		docs[i] = benchDoc
	}
	for _, d := range sqldbtest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			b.Run("baseline", func(b *testing.B) {
				e := newBenchEnv(b, d)
				multi := bulkQuery(e.db, batch)
				for b.Loop() {
					err := sqldb.InTx(ctx, e.db, nil, func(tx *sqlx.Tx) error {
						now := time.Now().UTC()
						for start := 0; start < n; start += batch {
							args := make([]any, 0, 4*batch)
							for range batch {
								args = append(args, uuid.Must(uuid.NewV7()).String(), string(benchDoc), now, now)
							}
							if _, err := tx.ExecContext(ctx, multi, args...); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "docs/s")
				reportDiskPerRecord(b, e, n*b.N)
			})
			b.Run("repokit", func(b *testing.B) {
				e := newBenchEnv(b, d)
				for b.Loop() {
					recs, err := e.s.CreateMany(ctx, docs)
					if err != nil {
						b.Fatal(err)
					}
					if len(recs) != n {
						b.Fatalf("CreateMany returned %d records, want %d", len(recs), n)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "docs/s")
				reportDiskPerRecord(b, e, n*b.N)
			})
		})
	}
}

func bulkQuery(db *sqlx.DB, rows int) string {
	q := "INSERT INTO bench_records (id, json, revision, created, updated, deleted) VALUES "
	for i := range rows {
		if i > 0 {
			q += ","
		}
		q += "(?, ?, 0, ?, ?, FALSE)"
	}
	return db.Rebind(q)
}

// reportDiskPerRecord reports, on SQLite, the bytes of the pages in use in
// the database (as the connection sees it: the WAL's pages included) per
// record written.
func reportDiskPerRecord(b *testing.B, e *benchEnv, records int) {
	if e.d != sqldb.SQLite {
		return
	}
	var size int64
	if err := e.db.Get(&size, "SELECT (c.page_count - f.freelist_count) * s.page_size FROM pragma_page_count() c, pragma_freelist_count() f, pragma_page_size() s"); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(size)/float64(records), "disk-B/rec")
}
