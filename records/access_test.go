package records_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/records"
)

func TestGuard(t *testing.T) {
	ctx := context.Background()
	db := freshSQLite(t)
	s := newStore(t, db)
	var seen []access.Action
	s.Guard(access.Funcs{AllowFunc: func(_ context.Context, who access.Identity, a access.Action, res access.Resource) bool {
		seen = append(seen, a)
		if res.Type != records.ResourceType {
			t.Errorf("resource type %q", res.Type)
		}
		return who.ID == "owner"
	}})
	owner := access.WithIdentity(ctx, access.Identity{ID: "owner"})
	other := access.WithIdentity(ctx, access.Identity{ID: "other"})

	_, err := s.Create(other, json.RawMessage(`{}`))
	wantErr(t, err, access.ErrForbidden)
	if count(t, db, "records_metadata") != 0 {
		t.Fatal("refused create wrote a record")
	}
	rec, err := s.Create(owner, json.RawMessage(`{"v":1}`))
	if err != nil {
		t.Fatal(err)
	}
	before := snap(t, db)
	_, err = s.Update(other, rec.ID, json.RawMessage(`{"v":2}`), rec.Revision)
	wantErr(t, err, access.ErrForbidden)
	_, err = s.Delete(other, rec.ID)
	wantErr(t, err, access.ErrForbidden)
	err = s.Purge(other, rec.ID)
	wantErr(t, err, access.ErrForbidden)
	var fe *access.ForbiddenError
	if !errors.As(err, &fe) || fe.Action != access.Delete || fe.ResourceID != rec.ID.String() {
		t.Fatalf("purge refusal: %#v", fe)
	}
	unchanged(t, db, before)
	if _, err := s.Update(owner, rec.ID, json.RawMessage(`{"v":2}`), rec.Revision); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(access.AsSystem(other), rec.ID); err != nil {
		t.Fatalf("system delete: %v", err)
	}
	if len(seen) == 0 {
		t.Fatal("policy never consulted")
	}
}
