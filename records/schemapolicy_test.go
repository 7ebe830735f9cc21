package records_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/repokit/repokit/records"
)

const policyURI = "https://example.org/schemas/policy-v1.json"

var policySchema = []byte(`{"type":"object","required":["title"],"properties":{"title":{"type":"string","minLength":1}}}`)

func TestSchemaPolicy(t *testing.T) {
	ctx := context.Background()
	db := freshSQLite(t)

	// Without a policy a document without $schema is stored unchecked.
	loose := newStore(t, db, records.WithSchema(policyURI, policySchema))
	if _, err := loose.Create(ctx, json.RawMessage(`{"x":1}`)); err != nil {
		t.Fatalf("no policy: %v", err)
	}

	t.Run("required", func(t *testing.T) {
		s := newStore(t, db, records.WithSchema(policyURI, policySchema), records.WithRequiredSchema())
		_, err := s.Create(ctx, json.RawMessage(`{"title":"x"}`))
		wantErr(t, err, records.ErrNoSchema, records.ErrInvalid)
		if err := s.Validate([]byte(`{"title":"x"}`)); !errors.Is(err, records.ErrNoSchema) {
			t.Fatalf("Validate: %v, want ErrNoSchema", err)
		}
		rec, err := s.Create(ctx, json.RawMessage(`{"$schema":"`+policyURI+`","title":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Update(ctx, rec.ID, json.RawMessage(`{"title":"y"}`), rec.Revision)
		wantErr(t, err, records.ErrNoSchema)
		// A document with \u escapes or no "$schema" literal still goes
		// through the policy (no fast path around it).
		_, err = s.Create(ctx, json.RawMessage(`{"title":"caf\u00e9"}`))
		wantErr(t, err, records.ErrNoSchema)
	})

	t.Run("default", func(t *testing.T) {
		s := newStore(t, db, records.WithSchema(policyURI, policySchema), records.WithDefaultSchema(policyURI))
		_, err := s.Create(ctx, json.RawMessage(`{"x":1}`))
		var ve *records.ValidationError
		if !errors.As(err, &ve) || ve.Schema != policyURI {
			t.Fatalf("create without title: err = %v, want a ValidationError against the default schema", err)
		}
		rec, err := s.Create(ctx, json.RawMessage(`{"title":"ok"}`))
		if err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, rec.JSON, `{"title":"ok"}`) // stored as given
		_, err = s.Update(ctx, rec.ID, json.RawMessage(`{"title":""}`), rec.Revision)
		wantErr(t, err, records.ErrSchema)
	})

	t.Run("default not registered", func(t *testing.T) {
		_, err := records.New(ctx, db, records.WithDefaultSchema("https://example.org/missing.json"))
		wantErr(t, err, records.ErrUnknownSchema)
	})
}
