package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/httperr"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
	"github.com/repokit/repokit/sqltx"
)

// Input is what a client sends to create or update a record.
type Input struct {
	Metadata json.RawMessage `json:"metadata"`
	Access   json.RawMessage `json:"access"`
}

// inputOf builds an Input from typed values (web forms, import).
func inputOf(m Metadata, access string) Input {
	mb, _ := json.Marshal(m)
	ab, _ := json.Marshal(Access{Record: access})
	return Input{Metadata: mb, Access: ab}
}

// docOf builds a stored document from client input and the managed fields.
// The metadata stays raw so that JSON Schema validation reports every
// field error by path.
func docOf(in Input, id, bucket string, owners []string, pids map[string]string) ([]byte, error) {
	m := map[string]any{"$schema": schemaURI, "id": id, "bucket": bucket, "owners": owners}
	if len(in.Metadata) == 0 || string(in.Metadata) == "null" {
		m["metadata"] = map[string]any{}
	} else {
		m["metadata"] = in.Metadata
	}
	if len(in.Access) == 0 || string(in.Access) == "null" {
		m["access"] = Access{Record: "public"}
	} else {
		m["access"] = in.Access
	}
	if len(pids) > 0 {
		m["pids"] = pids
	}
	return json.Marshal(m)
}

// inTx runs fn in a transaction of the shared database (retried on
// transient concurrency failures; see sqltx.InTx).
func (a *App) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return sqltx.InTx(ctx, a.db, fn)
}

// createRecord creates a record owned by the actor's user: in one
// transaction pid.CreateRecord mints the recid (written into revision 0),
// the record's bucket is created, and the record is stored; the hooks
// queue indexing, the notification and the DOI registration in it too.
func (a *App) createRecord(ctx context.Context, in Input, owner *User) (*records.Record, *stored, error) {
	doc, err := docOf(in, "0", "pending", []string{owner.ID}, nil)
	if err != nil {
		return nil, nil, err
	}
	// Validate first so an invalid document costs no recid and no bucket.
	if err := a.records.Validate(doc); err != nil {
		return nil, nil, err
	}
	var rec *records.Record
	err = a.inTx(ctx, func(tx *sqlx.Tx) error {
		// The stamp runs in tx once the recid is minted: the bucket is
		// tagged with the recid and named in the document.
		stamp := func(_ json.RawMessage, recid string) (json.RawMessage, error) {
			b, err := a.files.WithTx(tx).CreateBucket(ctx, files.BucketOptions{
				MaxFileSize: a.cfg.MaxUpload, Tags: map[string]string{"record": recid}})
			if err != nil {
				return nil, err
			}
			return docOf(in, recid, b.ID, []string{owner.ID}, nil)
		}
		var err error
		rec, _, err = a.pids.WithTx(tx).CreateRecord(ctx, a.records, doc, pid.WithRecidStamp(stamp))
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	s, err := decodeStored(rec)
	if err != nil {
		return nil, nil, err
	}
	a.purge(ctx, s.ID)
	return rec, s, nil
}

// resolve turns a recid into its record (typed errors of pid.Resolver).
func (a *App) resolve(ctx context.Context, recid string) (*records.Record, *stored, error) {
	_, rec, err := a.resolver.Resolve(ctx, pid.RecidType, recid)
	if err != nil {
		return nil, nil, err
	}
	s, err := decodeStored(rec)
	if err != nil {
		return nil, nil, err
	}
	return rec, s, nil
}

// updateRecord replaces a record's metadata and access; revision is the
// revision the client read (ErrConflict when stale).
func (a *App) updateRecord(ctx context.Context, rec *records.Record, s *stored, in Input, revision int64) (*records.Record, *stored, error) {
	if len(in.Access) == 0 {
		in.Access, _ = json.Marshal(s.Access)
	}
	doc, err := docOf(in, s.ID, s.Bucket, s.Owners, s.PIDs)
	if err != nil {
		return nil, nil, err
	}
	out, err := a.records.Update(ctx, rec.ID, doc, revision)
	if err != nil {
		return nil, nil, err
	}
	ns, err := decodeStored(out)
	if err != nil {
		return nil, nil, err
	}
	a.purge(ctx, s.ID)
	return out, ns, nil
}

// deleteRecord soft-deletes a record (its recid then resolves to "gone")
// and locks its bucket.
func (a *App) deleteRecord(ctx context.Context, rec *records.Record, s *stored, revision int64) error {
	opts := []records.WriteOption{}
	if revision >= 0 {
		opts = append(opts, records.IfRevision(revision))
	}
	if _, err := a.records.Delete(ctx, rec.ID, opts...); err != nil {
		return err
	}
	if err := a.files.LockBucket(ctx, s.Bucket, true); err != nil && !errors.Is(err, files.ErrNotFound) {
		a.log.Warn("lock bucket of deleted record", "record", s.ID, "err", err)
	}
	a.purge(ctx, s.ID)
	return nil
}

// purge drops the cached pages of a record (tagged recordTag); callers call
// it once the write has committed. Search pages are purged by the indexer's
// AfterIndex hook. A cache failure is logged: pages then expire with their
// TTL.
func (a *App) purge(ctx context.Context, recid string) {
	a.pages.Purger(recordTag(recid))(context.WithoutCancel(ctx))
}

// recordTag tags the cached pages showing a record (by its recid); indexTag
// the search pages of an index.
func recordTag(recid string) string { return "record:" + recid }
func indexTag(index string) string  { return "index:" + index }

// userOrErr returns the actor's user, or errUnauthenticated.
func userOrErr(ctx context.Context) (*User, error) {
	act := actorOf(ctx)
	if act.User == nil {
		return nil, errUnauthenticated
	}
	return act.User, nil
}

func inputFromJSON(b []byte) (Input, error) {
	var in Input
	if err := json.Unmarshal(b, &in); err != nil {
		return in, fmt.Errorf("%w: %v", errBadJSON, err)
	}
	return in, nil
}

var errBadJSON = httperr.WithPublic(errors.New("the request body is not valid JSON"), http.StatusBadRequest, "the request body is not valid JSON")
