// Package access is RepoKit's one access model: an Identity (who), an
// Action (what), a Resource (on what) and a Policy deciding, consulted by
// every package through small adapters:
//
//   - records: Store.Guard(policy) checks create, update, delete,
//     undelete, revert and purge in Before hooks (reads are checked by the
//     host with Check, or through the Files and Search adapters);
//   - files/fileshttp: WithAccessPolicy maps the handler's actions to
//     read-files and update-files on the record that owns the bucket;
//   - search: PolicyPermission turns the policy's Filter into the
//     searcher's permission filter.
//
// Refusals are *ForbiddenError values matching ErrForbidden (and the kind
// repokit.ErrForbidden, which every refusal by policy matches, from
// whichever package), whichever package raised them; httperr maps them to
// 403 (401 for an anonymous caller). The package depends on nothing but the
// root package repokit, so any package can use it.
package access

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/repokit/repokit"
)

// Action is what a caller wants to do.
type Action string

// The actions every adapter uses.
const (
	Create      Action = "create"
	Read        Action = "read"
	Update      Action = "update"
	Delete      Action = "delete" // also undelete, revert and purge
	ReadFiles   Action = "read-files"
	UpdateFiles Action = "update-files"
	// SearchFilter is not checked with Allow: the policy's Filter says
	// which documents a search may return.
	SearchFilter Action = "search-filter"
)

// Identity is who is calling. The zero Identity is anonymous.
type Identity struct {
	// ID identifies the user (as the host's auth knows them).
	ID string
	// Roles are the host's role names ("admin", "curator"...).
	Roles []string
}

// Anonymous reports whether the identity is nobody in particular.
func (i Identity) Anonymous() bool { return i.ID == "" }

// HasRole reports whether the identity has role.
func (i Identity) HasRole(role string) bool { return slices.Contains(i.Roles, role) }

type identityKey struct{}

// WithIdentity returns ctx carrying who; the host's auth middleware sets it.
func WithIdentity(ctx context.Context, who Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, who)
}

// IdentityFrom returns the identity ctx carries (anonymous if none).
func IdentityFrom(ctx context.Context) Identity {
	who, _ := ctx.Value(identityKey{}).(Identity)
	return who
}

type systemKey struct{}

// AsSystem returns ctx marking the caller as the system itself (indexers,
// migrations, tasks): the adapters do not consult the policy for it.
func AsSystem(ctx context.Context) context.Context { return context.WithValue(ctx, systemKey{}, true) }

// IsSystem reports whether ctx was marked by AsSystem.
func IsSystem(ctx context.Context) bool { v, _ := ctx.Value(systemKey{}).(bool); return v }

// Resource is what an action applies to.
type Resource struct {
	// Type is the kind of resource ("record").
	Type string
	// ID is its id.
	ID string
	// Doc is its current JSON document, when the resource has one (nil on
	// create, the new document's owner fields being in New).
	Doc json.RawMessage
	// New is the document a create or update would store.
	New json.RawMessage
}

// Filter says which documents a search may return: all of them, or those
// matching any of AnyOf. The zero Filter matches nothing.
type Filter struct {
	All   bool
	AnyOf []Term
}

// Term matches documents whose keyword field Field equals any of Values.
type Term struct {
	Field  string
	Values []string
}

// Policy decides. Implementations must be safe for concurrent use.
type Policy interface {
	// Allow reports whether who may do action on res.
	Allow(ctx context.Context, who Identity, action Action, res Resource) bool
	// Filter returns what who may find by searching.
	Filter(ctx context.Context, who Identity) Filter
}

// Funcs is a Policy made of two functions; a nil AllowFunc allows nothing,
// a nil FilterFunc filters everything out.
type Funcs struct {
	AllowFunc  func(ctx context.Context, who Identity, action Action, res Resource) bool
	FilterFunc func(ctx context.Context, who Identity) Filter
}

// Allow implements Policy.
func (f Funcs) Allow(ctx context.Context, who Identity, action Action, res Resource) bool {
	return f.AllowFunc != nil && f.AllowFunc(ctx, who, action, res)
}

// Filter implements Policy.
func (f Funcs) Filter(ctx context.Context, who Identity) Filter {
	if f.FilterFunc == nil {
		return Filter{}
	}
	return f.FilterFunc(ctx, who)
}

// ErrForbidden matches every refusal of an access policy, from whichever
// package. Kind repokit.ErrForbidden.
var ErrForbidden = repokit.NewError("access: forbidden", repokit.ErrForbidden)

// ForbiddenError is a refusal: who may not do Action on the resource. Its
// message names the action and the resource type only (no ids), so it is
// safe to show.
type ForbiddenError struct {
	Action       Action
	ResourceType string
	ResourceID   string // for logs; not in Error()
	// Anonymous is true when the caller was not identified (HTTP 401
	// rather than 403).
	Anonymous bool
}

func (e *ForbiddenError) Error() string {
	t := e.ResourceType
	if t == "" {
		t = "resource"
	}
	if e.Anonymous {
		return "access: sign in to " + string(e.Action) + " this " + t
	}
	return "access: not allowed to " + string(e.Action) + " this " + t
}

// Unwrap returns ErrForbidden, so errors.Is matches it (and
// repokit.ErrForbidden).
func (e *ForbiddenError) Unwrap() error { return ErrForbidden }

// Check asks p whether the identity of ctx may do action on res and returns
// nil or a *ForbiddenError. A context marked by AsSystem is always allowed.
func Check(ctx context.Context, p Policy, action Action, res Resource) error {
	if IsSystem(ctx) {
		return nil
	}
	who := IdentityFrom(ctx)
	if p.Allow(ctx, who, action, res) {
		return nil
	}
	return &ForbiddenError{Action: action, ResourceType: res.Type, ResourceID: res.ID, Anonymous: who.Anonymous()}
}

// FilterFor returns the search filter for the identity of ctx (everything
// for AsSystem).
func FilterFor(ctx context.Context, p Policy) Filter {
	if IsSystem(ctx) {
		return Filter{All: true}
	}
	return p.Filter(ctx, IdentityFrom(ctx))
}
