package records_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
)

// articleSchema is the schema the suite registers: title required (string,
// non-empty), year an integer ≥ 1000, creators a non-empty array of objects
// with a string name.
const articleSchemaURI = "https://repokit.test/schemas/article-v1.json"

var articleSchema = []byte(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["title"],
  "properties": {
    "$schema": {"type": "string"},
    "title": {"type": "string", "minLength": 1},
    "year": {"type": "integer", "minimum": 1000},
    "creators": {"type": "array", "minItems": 1, "items": {
      "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}
  }
}`)

func newStore(t testing.TB, db *sqlx.DB, opts ...records.Option) *records.Store {
	t.Helper()
	opts = append([]records.Option{records.WithSchema(articleSchemaURI, articleSchema)}, opts...)
	s, err := records.New(context.Background(), db, opts...)
	if err != nil {
		t.Fatalf("records.New: %v", err)
	}
	return s
}

func mustCreate(t testing.TB, s *records.Store, doc string, opts ...records.CreateOption) *records.Record {
	t.Helper()
	r, err := s.Create(context.Background(), json.RawMessage(doc), opts...)
	if err != nil {
		t.Fatalf("Create(%s): %v", doc, err)
	}
	return r
}

func mustGet(t testing.TB, s *records.Store, id uuid.UUID, opts ...records.GetOption) *records.Record {
	t.Helper()
	r, err := s.Get(context.Background(), id, opts...)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return r
}

// jsonEqual compares documents by value (PostgreSQL and MySQL reformat them).
func jsonEqual(t testing.TB, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("stored JSON %q does not parse: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q does not parse: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("JSON = %s, want %s", got, want)
	}
}

func wantErr(t testing.TB, err error, targets ...error) {
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

func count(t testing.TB, db sqlx.QueryerContext, table string) int {
	t.Helper()
	var n int
	if err := sqlx.GetContext(context.Background(), db, &n, "SELECT COUNT(*) FROM "+table); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// snapshot is the row count of both tables, to prove nothing changed.
type snapshot struct{ records, revisions int }

func snap(t testing.TB, db *sqlx.DB) snapshot {
	t.Helper()
	return snapshot{count(t, db, "records_metadata"), count(t, db, "records_revisions")}
}

func unchanged(t testing.TB, db *sqlx.DB, before snapshot) {
	t.Helper()
	if after := snap(t, db); after != before {
		t.Fatalf("rows changed: before %+v, after %+v", before, after)
	}
}

func freshSQLite(t *testing.T) *sqlx.DB {
	t.Helper()
	return sqldbtest.Fresh(t, sqldb.SQLite)
}
