package records_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"unicode/utf8"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
)

// FuzzCreate feeds arbitrary bytes to Create on SQLite (and on PostgreSQL
// and MySQL when their URLs are set) and checks the JSON input path:
//
//   - bytes that are not a JSON object are refused with ErrInvalid (or
//     ErrTooLarge) and nothing is written;
//   - a JSON object without "$schema" is accepted by every database (no
//     untyped SQL error: validation must refuse whatever a database would);
//   - an accepted document reads back equal (byte-equal on SQLite);
//   - Validate and Create always agree.
//
// The seed corpus lives in testdata/fuzz/FuzzCreate.
func FuzzCreate(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"a": 1}`, `[]`, `"s"`, `null`, `{"a": }`, ``, ` {"nested": {"x": [1, 2.5, -3e10, true, null]}} `,
		`{"$schema": "` + articleSchemaURI + `", "title": "ok"}`, `{"$schema": "` + articleSchemaURI + `", "title": 1}`,
		`{"$schema": "https://unknown.test/x"}`, `{"$schema": 1}`, `{"\u0024schema": "x"}`, `{"s": "\u0000"}`,
		`{"s": "\ud83d\ude00"}`, `{"s": "\ud83d"}`, `{"s": "\ude00x"}`, "{\"s\": \"\xff\"}", `{"a":1}{"b":2}`,
		`{"k": "` + string(bytes.Repeat([]byte("x"), 5000)) + `"}`, `{"a": 1e400}`, `{"é": "ü"}`,
	} {
		f.Add([]byte(seed))
	}
	ctx := context.Background()
	type target struct {
		d  sqldb.Dialect
		s  *records.Store
		db interface{ Close() error }
	}
	var targets []target
	for _, d := range sqldbtest.Dialects {
		if d == sqldb.Postgres && os.Getenv(sqldbtest.PostgresEnv) == "" || d == sqldb.MySQL && os.Getenv(sqldbtest.MySQLEnv) == "" {
			continue
		}
		db := sqldbtest.Fresh(f, d)
		targets = append(targets, target{d: d, s: newStore(f, db, records.WithMaxSize(4096)), db: db})
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		isObj := json.Valid(doc) && bytes.HasPrefix(bytes.TrimLeft(doc, " \t\r\n"), []byte("{"))
		var top map[string]json.RawMessage
		hasSchema := false
		if isObj {
			if err := json.Unmarshal(doc, &top); err != nil {
				t.Fatalf("json.Valid object does not unmarshal: %v", err)
			}
			_, hasSchema = top["$schema"]
		}
		for _, tg := range targets {
			verr := tg.s.Validate(doc)
			rec, err := tg.s.Create(ctx, doc)
			if (verr == nil) != (err == nil) {
				t.Fatalf("%s: Validate = %v but Create = %v", tg.d, verr, err)
			}
			if err != nil {
				if !errors.Is(err, records.ErrInvalid) && !errors.Is(err, records.ErrTooLarge) {
					t.Fatalf("%s: Create(%q) = %v: not a typed input error", tg.d, doc, err)
				}
				if errors.Is(err, records.ErrTooLarge) != (len(doc) > 4096) {
					t.Fatalf("%s: Create(%d bytes) = %v", tg.d, len(doc), err)
				}
				continue
			}
			if !isObj || len(doc) > 4096 {
				t.Fatalf("%s: Create accepted %q", tg.d, doc)
			}
			got, gerr := tg.s.Get(ctx, rec.ID)
			if gerr != nil {
				t.Fatalf("%s: Get after Create: %v", tg.d, gerr)
			}
			if tg.d == sqldb.SQLite && !bytes.Equal(got.JSON, doc) {
				t.Fatalf("sqlite: stored %q, read back %q", doc, got.JSON)
			}
			if !parses(got.JSON) {
				t.Fatalf("%s: read back unparsable JSON %q", tg.d, got.JSON)
			}
		}
		// The only reasons to refuse a well-formed, small object without
		// "$schema" are the escapes no database stores (NUL, lone
		// surrogates) and invalid UTF-8.
		if isObj && !hasSchema && len(doc) <= 4096 && len(targets) > 0 {
			if err := targets[0].s.Validate(doc); err != nil && !bytes.Contains(doc, []byte(`\u`)) && utf8.Valid(doc) {
				t.Fatalf("refused a plain object %q: %v", doc, err)
			}
		}
	})
}

func parses(b []byte) bool {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	return d.Decode(&v) == nil
}
