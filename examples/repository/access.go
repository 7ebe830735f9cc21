package main

// The access model of the example: who the caller is (the actor, carried in
// the request context), who may read and edit a record, and the three
// library permission hooks that enforce it — the search permission filter
// (hits, totals and facet counts), the records Before hooks (edits) and the
// fileshttp permission function (file reads and writes). The rules are one
// access.Policy (recordPolicy); the actor's context also carries its
// access.Identity (or access.AsSystem), so the library adapters and this
// file's checks ask the same policy.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/fileshttp"
	"github.com/repokit/repokit/httperr"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/tasks"
)

var (
	// errForbidden: the actor may not do this (403). Like every refusal it
	// matches access.ErrForbidden and repokit.ErrForbidden.
	errForbidden = httperr.WithPublic(fmt.Errorf("%w: permission denied", access.ErrForbidden), http.StatusForbidden, "permission denied")
	// errUnauthenticated: log in first (401).
	errUnauthenticated = httperr.WithPublic(fmt.Errorf("%w: authentication required", access.ErrForbidden), http.StatusUnauthorized, "authentication required")
)

// Actor is who performs an operation: a user, or the system (tasks, CLI).
type Actor struct {
	User   *User
	System bool
}

type actorKey struct{}

func withActor(ctx context.Context, a *Actor) context.Context {
	ctx = context.WithValue(ctx, actorKey{}, a)
	if a.System {
		return access.AsSystem(ctx)
	}
	return access.WithIdentity(ctx, a.identity())
}

// identity is the actor's access.Identity: its user id, role "admin" for
// admins; anonymous without a user.
func (a *Actor) identity() access.Identity {
	if a.User == nil {
		return access.Identity{}
	}
	who := access.Identity{ID: a.User.ID}
	if a.User.IsAdmin {
		who.Roles = []string{roleAdmin}
	}
	return who
}

func withSystem(ctx context.Context) context.Context {
	return withActor(ctx, &Actor{System: true})
}

func withUser(ctx context.Context, u *User) context.Context {
	return withActor(ctx, &Actor{User: u})
}

// actorOf returns the actor of ctx; anonymous callers get an empty Actor.
func actorOf(ctx context.Context) *Actor {
	if a, ok := ctx.Value(actorKey{}).(*Actor); ok && a != nil {
		return a
	}
	return &Actor{}
}

func (a *Actor) privileged() bool { return a.System || (a.User != nil && a.User.IsAdmin) }

// canRead: public records by everyone; restricted ones by owners and admins.
func (a *Actor) canRead(s *stored) bool { return a.System || allowStored(a.identity(), access.Read, s) }

// canEdit: owners and admins.
func (a *Actor) canEdit(s *stored) bool {
	return a.System || allowStored(a.identity(), access.Update, s)
}

// roleAdmin is the access.Identity role of admins.
const roleAdmin = "admin"

// recordPolicy is the example's access model: admins may do anything;
// public records and their files are read by everyone, restricted ones by
// their owners; owners edit; any signed-in user creates. Its search filter
// (public records, plus the user's own) is added to every query, so totals
// and facet counts obey it too.
var recordPolicy access.Policy = access.Funcs{
	AllowFunc: func(_ context.Context, who access.Identity, action access.Action, res access.Resource) bool {
		if action == access.Create {
			return !who.Anonymous()
		}
		doc := res.Doc
		if doc == nil {
			doc = res.New
		}
		s, err := decodeStored(&records.Record{JSON: doc})
		if err != nil {
			return who.HasRole(roleAdmin)
		}
		return allowStored(who, action, s)
	},
	FilterFunc: func(_ context.Context, who access.Identity) access.Filter {
		if who.HasRole(roleAdmin) {
			return access.Filter{All: true}
		}
		f := access.Filter{AnyOf: []access.Term{{Field: "access.record", Values: []string{"public"}}}}
		if !who.Anonymous() {
			f.AnyOf = append(f.AnyOf, access.Term{Field: "owners", Values: []string{who.ID}})
		}
		return f
	},
}

// allowStored is recordPolicy's rule for an existing record.
func allowStored(who access.Identity, action access.Action, s *stored) bool {
	if who.HasRole(roleAdmin) {
		return true
	}
	owner := !who.Anonymous() && slices.Contains(s.Owners, who.ID)
	switch action {
	case access.Read, access.ReadFiles:
		return s.Access.Record == "public" || owner
	}
	return owner
}

// searchPermission is the search permission filter of recordPolicy.
var searchPermission = search.PolicyPermission(recordPolicy)

// registerHooks attaches the records hooks: edits need an owner or an admin
// (whatever path they come from), server-managed fields cannot be changed
// by users, and a new record queues its notification and DOI registration in
// its own transaction (outbox).
func (a *App) registerHooks() {
	guard := func(ctx context.Context, _ *sqlx.Tx, ev *records.Event) error {
		act := actorOf(ctx)
		action := access.Update
		if ev.Op != records.OpUpdate {
			action = access.Delete // also undelete, revert and purge
		}
		if err := access.Check(ctx, recordPolicy, action, records.AccessResource(ev.Previous)); err != nil {
			return err
		}
		if ev.Op != records.OpUpdate && ev.Op != records.OpRevert {
			return nil
		}
		// Keep the managed fields of the previous revision.
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(ev.Record.JSON, &doc); err != nil {
			return err
		}
		var old map[string]json.RawMessage
		if err := json.Unmarshal(ev.Previous.JSON, &old); err != nil {
			return err
		}
		keep := []string{"$schema", "id", "bucket"}
		if !act.privileged() {
			keep = append(keep, "owners")
		}
		if !act.System {
			keep = append(keep, "pids")
		}
		for _, k := range keep {
			if v, ok := old[k]; ok {
				doc[k] = v
			} else {
				delete(doc, k)
			}
		}
		b, err := json.Marshal(doc)
		ev.Record.JSON = b
		return err
	}
	for _, op := range []records.Op{records.OpUpdate, records.OpDelete, records.OpUndelete, records.OpRevert, records.OpPurge} {
		a.records.On(records.Before, op, guard)
	}

	// Outbox: follow-up work commits with the record or not at all.
	after := func(ctx context.Context, tx *sqlx.Tx, ev *records.Event) error {
		if actorOf(ctx).System && ev.Op != records.OpCreate {
			return nil // the DOI task's own pid update must not queue another one
		}
		s, err := decodeStored(ev.Record)
		if err != nil {
			return err
		}
		if ev.Op == records.OpCreate && !actorOf(ctx).System { // imports notify nobody
			if _, err := a.tasks.WithTx(tx).Enqueue(ctx, taskNotify, notifyArgs{RecordID: ev.Record.ID.String(), Event: "created"},
				tasks.Queue(queueDefault)); err != nil {
				return err
			}
		}
		if a.datacite != nil && s.Access.Record == "public" {
			if _, err := a.tasks.WithTx(tx).Enqueue(ctx, taskDOI, doiArgs{RecordID: ev.Record.ID.String()},
				tasks.Queue(queueDefault), tasks.MaxAttempts(10), tasks.UniqueKey("doi:"+ev.Record.ID.String())); err != nil {
				return err
			}
		}
		return nil
	}
	a.records.On(records.After, records.OpCreate, after)
	a.records.On(records.After, records.OpUpdate, after)
}

// recordInCtx carries the record a files request is about to the fileshttp
// permission function.
type recordInCtx struct{}

// filesPermission is the fileshttp permission hook: reads need read access
// to the record, writes edit access; buckets are never created through the
// API (every record gets its own when it is created).
func filesPermission(r *http.Request, action fileshttp.Action, res fileshttp.Resource) error {
	s, ok := r.Context().Value(recordInCtx{}).(*stored)
	if !ok || s.Bucket != res.BucketID {
		return files.ErrNotFound
	}
	act := actorOf(r.Context())
	switch action {
	case fileshttp.ActionBucketRead, fileshttp.ActionObjectRead:
		if act.canRead(s) {
			return nil
		}
		return files.ErrNotFound // hide what exists
	case fileshttp.ActionBucketCreate:
		return errForbidden
	default:
		if act.canEdit(s) {
			return nil
		}
		if !act.canRead(s) {
			return files.ErrNotFound
		}
		return errForbidden
	}
}
