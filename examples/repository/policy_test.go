package main

import (
	"context"
	"errors"
	"io"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/httperr"
)

// TestRecordWritesAskThePolicy: a write that bypasses the HTTP handlers'
// checks is still refused by the records Before hook, which asks
// recordPolicy through access.Check: 401 for nobody, 403 for another user,
// allowed for the owner, an admin and the system.
func TestRecordWritesAskThePolicy(t *testing.T) {
	cfg := embeddedConfig(t)
	l := listen(t)
	cfg.Addr = l.Addr().String()
	_ = l.Close()
	if err := cfg.Resolve(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := Open(ctx, cfg, newLogger(io.Discard, "error"), appOptions{bcryptCost: bcrypt.MinCost, queues: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	mk := func(email string, admin bool) *User {
		u, err := a.users.Create(ctx, email, "password-"+email, admin, bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	alice, bob, root := mk("alice@example.org", false), mk("bob@example.org", false), mk("root@example.org", true)
	in := inputOf(Metadata{Title: "Policy", Creators: []string{"A"}, ResourceType: "other"}, "restricted")
	rec, s, err := a.createRecord(withUser(ctx, alice), in, alice)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		ctx    context.Context
		status int
	}{
		{"anonymous", ctx, 401},
		{"other user", withUser(ctx, bob), 403},
	} {
		_, _, err := a.updateRecord(c.ctx, rec, s, in, rec.Revision)
		if !errors.Is(err, access.ErrForbidden) || httperr.Status(err) != c.status {
			t.Errorf("%s update: %v (status %d), want a refusal with %d", c.name, err, httperr.Status(err), c.status)
		}
		if err := a.deleteRecord(c.ctx, rec, s, rec.Revision); !errors.Is(err, access.ErrForbidden) {
			t.Errorf("%s delete: %v", c.name, err)
		}
	}
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"owner", withUser(ctx, alice)}, {"admin", withUser(ctx, root)}, {"system", withSystem(ctx)}} {
		out, ns, err := a.updateRecord(c.ctx, rec, s, in, rec.Revision)
		if err != nil {
			t.Fatalf("%s update: %v", c.name, err)
		}
		rec, s = out, ns
	}
	if !withActorOf(alice).canRead(s) || withActorOf(bob).canRead(s) || (&Actor{}).canRead(s) || !withActorOf(root).canEdit(s) {
		t.Errorf("canRead/canEdit of a restricted record disagree with recordPolicy")
	}
}

func withActorOf(u *User) *Actor { return &Actor{User: u} }
