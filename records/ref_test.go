package records_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/repokit/repokit/records"
)

// TestSchemaRef: a schema can $ref one registered before it; a $ref to an
// unregistered (remote) schema is refused at registration, never fetched.
func TestSchemaRef(t *testing.T) {
	db := freshSQLite(t)
	s := newStore(t, db)
	const person = "https://repokit.test/schemas/person.json"
	const book = "https://repokit.test/schemas/book.json"
	if err := s.RegisterSchema(person, []byte(`{"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterSchema(book, []byte(`{"type": "object", "properties": {"author": {"$ref": "`+person+`"}}}`)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Create(ctx, json.RawMessage(`{"$schema": "`+book+`", "author": {"name": "A"}}`)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Create(ctx, json.RawMessage(`{"$schema": "`+book+`", "author": {}}`))
	wantErr(t, err, records.ErrSchema)
	if err := s.RegisterSchema("https://repokit.test/schemas/remote.json", []byte(`{"$ref": "https://example.com/never-fetched.json"}`)); err == nil {
		t.Fatal("a schema with an unregistered remote $ref was accepted")
	}
	// A refused schema's uri can be registered once fixed, and earlier
	// schemas still resolve.
	if err := s.RegisterSchema("https://repokit.test/schemas/remote.json", []byte(`{"$ref": "`+person+`"}`)); err != nil {
		t.Fatalf("re-registering a fixed schema: %v", err)
	}
	_, err = s.Create(ctx, json.RawMessage(`{"$schema": "https://repokit.test/schemas/remote.json"}`))
	wantErr(t, err, records.ErrSchema)
}
