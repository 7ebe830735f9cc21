package records_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/repokit/repokit/records"
)

// badDocs are documents every write must refuse before touching SQL.
var badDocs = []struct {
	name string
	doc  string
	errs []error
}{
	{"not JSON", `{"a": `, []error{records.ErrInvalid}},
	{"garbage", `hello`, []error{records.ErrInvalid}},
	{"empty", ``, []error{records.ErrInvalid}},
	{"array", `[1, 2]`, []error{records.ErrInvalid}},
	{"string", `"x"`, []error{records.ErrInvalid}},
	{"null", `null`, []error{records.ErrInvalid}},
	{"trailing data", `{"a": 1} {"b": 2}`, []error{records.ErrInvalid}},
	{"schema not a string", `{"$schema": 5}`, []error{records.ErrInvalid}},
	{"unknown schema", `{"$schema": "https://nowhere.test/s.json", "title": "x"}`, []error{records.ErrUnknownSchema, records.ErrInvalid}},
	{"escaped unknown schema", `{"\u0024schema": "https://nowhere.test/s.json"}`, []error{records.ErrUnknownSchema, records.ErrInvalid}},
	{"schema invalid", `{"$schema": "` + articleSchemaURI + `", "title": 5}`, []error{records.ErrSchema, records.ErrInvalid}},
	{"too large", `{"big": "` + strings.Repeat("x", 70<<10) + `"}`, []error{records.ErrTooLarge}},
}

func testBadInputCreate(t *testing.T, e *env) {
	ctx := context.Background()
	s := newStore(t, e.db, records.WithMaxSize(64<<10))
	before := snap(t, e.db)
	for _, c := range badDocs {
		_, err := s.Create(ctx, json.RawMessage(c.doc))
		if err == nil {
			t.Fatalf("%s: Create succeeded", c.name)
		}
		for _, target := range c.errs {
			if !errors.Is(err, target) {
				t.Fatalf("%s: err = %v, want %v", c.name, err, target)
			}
		}
		if err := s.Validate([]byte(c.doc)); err == nil {
			t.Fatalf("%s: Validate accepted it", c.name)
		}
		_, err = s.CreateMany(ctx, []json.RawMessage{[]byte(`{"ok": 1}`), []byte(c.doc)})
		if err == nil || !errors.Is(err, c.errs[0]) {
			t.Fatalf("%s: CreateMany err = %v", c.name, err)
		}
	}
	unchanged(t, e.db, before)
}

func testBadInputUpdate(t *testing.T, e *env) {
	ctx := context.Background()
	s := newStore(t, e.db, records.WithMaxSize(64<<10))
	r := mustCreate(t, s, `{"title": "ok", "$schema": "`+articleSchemaURI+`"}`)
	before := snap(t, e.db)
	for _, c := range badDocs {
		_, err := s.Update(ctx, r.ID, json.RawMessage(c.doc), 0)
		if err == nil {
			t.Fatalf("%s: Update succeeded", c.name)
		}
		for _, target := range c.errs {
			if !errors.Is(err, target) {
				t.Fatalf("%s: err = %v, want %v", c.name, err, target)
			}
		}
	}
	unchanged(t, e.db, before)
	got := mustGet(t, s, r.ID)
	if got.Revision != 0 {
		t.Fatalf("revision = %d after refused updates", got.Revision)
	}
	jsonEqual(t, got.JSON, `{"title": "ok", "$schema": "`+articleSchemaURI+`"}`)
}

func testSchemaErrors(t *testing.T, e *env) {
	ctx := context.Background()
	before := snap(t, e.db)
	doc := `{"$schema": "` + articleSchemaURI + `", "year": 99.5, "creators": [{"name": "a"}, {"name": 7}, {}]}`
	_, err := e.s.Create(ctx, json.RawMessage(doc))
	var ve *records.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	wantErr(t, err, records.ErrSchema, records.ErrInvalid)
	if ve.Schema != articleSchemaURI {
		t.Fatalf("Schema = %q", ve.Schema)
	}
	paths := map[string]bool{}
	for _, fe := range ve.Errors {
		if fe.Message == "" {
			t.Fatalf("empty message for %q", fe.Path)
		}
		paths[fe.Path] = true
	}
	// Every failing location is listed: missing title (root), year not an
	// integer, creator 1's name not a string, creator 2 missing its name.
	for _, p := range []string{"", "/year", "/creators/1/name", "/creators/2"} {
		if !paths[p] {
			t.Fatalf("no error for path %q; got %+v", p, ve.Errors)
		}
	}
	if len(ve.Errors) != 4 {
		t.Fatalf("got %d errors, want 4: %+v", len(ve.Errors), ve.Errors)
	}
	if !strings.Contains(err.Error(), "/creators/1/name") {
		t.Fatalf("message %q does not name the path", err)
	}
	unchanged(t, e.db, before)

	// A valid document passes.
	mustCreate(t, e.s, `{"$schema": "`+articleSchemaURI+`", "title": "T", "year": 2024, "creators": [{"name": "a"}]}`)

	// Registering: duplicate uri and broken schema are refused; a new schema
	// takes effect at once.
	if err := e.s.RegisterSchema(articleSchemaURI, articleSchema); err == nil {
		t.Fatal("registering a uri twice succeeded")
	}
	if err := e.s.RegisterSchema("https://repokit.test/broken.json", []byte(`{"type": 5}`)); err == nil {
		t.Fatal("registering an invalid schema succeeded")
	}
	s2 := newStore(t, e.db)
	const uri = "https://repokit.test/schemas/dataset.json"
	doc2 := `{"$schema": "` + uri + `", "size": -1}`
	_, err = s2.Create(ctx, json.RawMessage(doc2))
	wantErr(t, err, records.ErrUnknownSchema)
	if err := s2.RegisterSchema(uri, []byte(`{"type": "object", "properties": {"size": {"type": "integer", "minimum": 0}}}`)); err != nil {
		t.Fatal(err)
	}
	_, err = s2.Create(ctx, json.RawMessage(doc2))
	wantErr(t, err, records.ErrSchema)
	if !slicesContains(s2.Schemas(), uri) {
		t.Fatalf("Schemas() = %v", s2.Schemas())
	}
}

func slicesContains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func testSchemaRevert(t *testing.T, e *env) {
	// Revert validates the old JSON against today's schemas: a revision
	// written before its schema was registered cannot be brought back if it
	// does not match.
	ctx := context.Background()
	const uri = "https://repokit.test/schemas/late.json"
	s := newStore(t, e.db)
	s0 := newStore(t, e.db, records.WithSchema(uri, []byte(`{"type": "object"}`)))
	r := mustCreate(t, s0, `{"$schema": "`+uri+`", "n": "text"}`)
	if _, err := s0.Update(ctx, r.ID, json.RawMessage(`{"n": 1}`), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterSchema(uri, []byte(`{"type": "object", "properties": {"n": {"type": "integer"}}}`)); err != nil {
		t.Fatal(err)
	}
	before := snap(t, e.db)
	_, err := s.Revert(ctx, r.ID, 0)
	wantErr(t, err, records.ErrSchema)
	unchanged(t, e.db, before)
}
