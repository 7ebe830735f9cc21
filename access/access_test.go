package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/repokit/repokit/access"
)

// ownerPolicy: owners may do anything with their records, everyone may
// read public ones, admins may do anything.
func ownerPolicy() access.Policy {
	return access.Funcs{
		AllowFunc: func(_ context.Context, who access.Identity, a access.Action, res access.Resource) bool {
			if who.HasRole("admin") {
				return true
			}
			var doc struct {
				Owners []string `json:"owners"`
				Public bool     `json:"public"`
			}
			src := res.Doc
			if src == nil {
				src = res.New
			}
			_ = json.Unmarshal(src, &doc)
			if !who.Anonymous() && slices.Contains(doc.Owners, who.ID) {
				return true
			}
			return doc.Public && (a == access.Read || a == access.ReadFiles)
		},
		FilterFunc: func(_ context.Context, who access.Identity) access.Filter {
			if who.HasRole("admin") {
				return access.Filter{All: true}
			}
			f := access.Filter{AnyOf: []access.Term{{Field: "public", Values: []string{"true"}}}}
			if !who.Anonymous() {
				f.AnyOf = append(f.AnyOf, access.Term{Field: "owners", Values: []string{who.ID}})
			}
			return f
		},
	}
}

func TestCheck(t *testing.T) {
	p := ownerPolicy()
	alice := access.WithIdentity(context.Background(), access.Identity{ID: "alice"})
	bob := access.WithIdentity(context.Background(), access.Identity{ID: "bob"})
	anon := context.Background()
	admin := access.WithIdentity(context.Background(), access.Identity{ID: "root", Roles: []string{"admin"}})
	private := access.Resource{Type: "record", ID: "r1", Doc: json.RawMessage(`{"owners":["alice"]}`)}
	public := access.Resource{Type: "record", ID: "r2", Doc: json.RawMessage(`{"owners":["alice"],"public":true}`)}

	if err := access.Check(alice, p, access.Update, private); err != nil {
		t.Fatalf("owner update: %v", err)
	}
	err := access.Check(bob, p, access.Read, private)
	var fe *access.ForbiddenError
	if !errors.Is(err, access.ErrForbidden) || !errors.As(err, &fe) || fe.Anonymous || fe.Action != access.Read || fe.ResourceID != "r1" {
		t.Fatalf("bob reads private: %v", err)
	}
	if err.Error() != "access: not allowed to read this record" {
		t.Fatalf("message %q", err.Error())
	}
	if err := access.Check(anon, p, access.Update, public); !errors.As(err, &fe) || !fe.Anonymous {
		t.Fatalf("anonymous update: %v", err)
	}
	if err := access.Check(anon, p, access.ReadFiles, public); err != nil {
		t.Fatalf("anonymous reads public files: %v", err)
	}
	if err := access.Check(admin, p, access.Delete, private); err != nil {
		t.Fatalf("admin: %v", err)
	}
	if err := access.Check(access.AsSystem(anon), p, access.Delete, private); err != nil {
		t.Fatalf("system: %v", err)
	}
	if f := access.FilterFor(bob, p); f.All || len(f.AnyOf) != 2 {
		t.Fatalf("bob's filter %+v", f)
	}
	if f := access.FilterFor(access.AsSystem(anon), p); !f.All {
		t.Fatal("system filter must be All")
	}
	if (access.Funcs{}).Allow(anon, access.Identity{}, access.Read, public) {
		t.Fatal("empty Funcs allowed")
	}
	if got := access.IdentityFrom(alice); got.ID != "alice" || access.IdentityFrom(anon).ID != "" {
		t.Fatal("IdentityFrom")
	}
}
