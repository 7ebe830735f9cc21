// Package pid keeps persistent identifiers (PIDs) for records, as Invenio's
// invenio-pidstore does: a (type, value) pair such as ("recid", "42") or
// ("doi", "10.5281/zenodo.42"), unique, with a status and an optional bound
// object (a record's UUID).
//
// Statuses and Invenio's legal transitions:
//
//	New (N) ──Reserve──► Reserved (K) ──Register──► Registered (R) ──Redirect──► Redirected (M)
//	   └──────────────────Register──────────────────────┘
//	Delete: New → row removed; Reserved, Registered, Redirected → Deleted (D)
//
// Reserve is allowed from N or K, Register from N or K, Redirect from R or
// M; anything else fails with a *TransitionError (errors.Is
// ErrInvalidTransition).
//
// A Resolver turns a PID into its record, or a typed error for each case:
// ErrNotFound, ErrDeleted ("gone"), *RedirectedError (with the target
// PID), ErrUnregistered, ErrObjectMissing.
//
// Store.Next draws gap-free sequential values from a named counter inside
// the caller's transaction (a rolled-back transaction gives its number back)
// and MintRecid mints Invenio's integer "recid" PIDs with it.
//
// Every operation runs in the caller's transaction through WithTx, so a
// record, its PIDs and outbox rows commit or roll back together.
package pid
