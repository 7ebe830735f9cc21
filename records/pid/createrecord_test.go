package pid_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
	"github.com/repokit/repokit/sqltx"
)

const recidSchemaURI = "https://example.org/schemas/recid-v1.json"

// The schema requires the recid, so only a document stamped before
// validation passes.
var recidSchema = []byte(`{"type":"object","required":["id","title"],
	"properties":{"id":{"type":"string","pattern":"^[0-9]+$"},"title":{"type":"string","minLength":1}}}`)

func TestCreateRecord(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		db := sqldbtest.Fresh(t, d)
		recs, err := records.New(ctx, db, records.WithSchema(recidSchemaURI, recidSchema), records.WithDefaultSchema(recidSchemaURI))
		if err != nil {
			t.Fatal(err)
		}
		pids, err := pid.New(ctx, db)
		if err != nil {
			t.Fatal(err)
		}

		rec, recid, err := pids.CreateRecord(ctx, recs, json.RawMessage(`{"title":"first"}`))
		if err != nil {
			t.Fatal(err)
		}
		if recid.Value != "1" || recid.Status != pid.StatusRegistered || recid.ObjectID != rec.ID || recid.ObjectType != pid.ObjectRecord {
			t.Fatalf("recid = %+v, record %s", recid, rec.ID)
		}
		revs, err := recs.Revisions(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		var rev0 struct{ ID string }
		if err := json.Unmarshal(revs[0].JSON, &rev0); err != nil || revs[0].Revision != 0 || rev0.ID != "1" {
			t.Fatalf("revision 0 = %s (err %v), want it to carry id 1", revs[0].JSON, err)
		}
		_, got, err := pid.NewResolver(pids, recs).Resolve(ctx, pid.RecidType, "1")
		if err != nil || got.ID != rec.ID {
			t.Fatalf("resolve recid 1: %v, %v", got, err)
		}

		// A document the schema refuses: nothing stored, the recid is given back.
		n := count(t, db, "records_metadata")
		if _, _, err := pids.CreateRecord(ctx, recs, json.RawMessage(`{"title":""}`)); !errors.Is(err, records.ErrSchema) {
			t.Fatalf("invalid document: err = %v, want ErrSchema", err)
		}
		if _, _, err := pids.CreateRecord(ctx, recs, json.RawMessage(`[1]`)); !errors.Is(err, records.ErrInvalid) {
			t.Fatalf("array document: err = %v, want ErrInvalid", err)
		}
		if count(t, db, "records_metadata") != n {
			t.Fatal("a refused document left a record")
		}

		// In the caller's transaction: a rollback gives the recid back too.
		err = sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
			if _, _, err := pids.WithTx(tx).CreateRecord(ctx, recs, json.RawMessage(`{"title":"rolled back"}`)); err != nil {
				return err
			}
			return errors.New("roll back")
		})
		if err == nil || err.Error() != "roll back" {
			t.Fatalf("err = %v", err)
		}
		_, recid2, err := pids.CreateRecord(ctx, recs, json.RawMessage(`{"title":"second"}`), pid.WithRecidField("id"))
		if err != nil {
			t.Fatal(err)
		}
		if recid2.Value != "2" {
			t.Fatalf("second recid = %s, want 2 (refused and rolled-back creations give theirs back)", recid2.Value)
		}

		// Another field, and a custom stamp.
		plain, err := records.New(ctx, db, records.WithoutMigrations())
		if err != nil {
			t.Fatal(err)
		}
		rec3, recid3, err := pids.CreateRecord(ctx, plain, json.RawMessage(`{"title":"third"}`), pid.WithRecidField("recid"))
		if err != nil {
			t.Fatal(err)
		}
		var doc3 map[string]any
		_ = json.Unmarshal(rec3.JSON, &doc3)
		if doc3["recid"] != recid3.Value || doc3["id"] != nil {
			t.Fatalf("WithRecidField(recid): %s", rec3.JSON)
		}
		rec4, _, err := pids.CreateRecord(ctx, plain, json.RawMessage(`{}`), pid.WithRecidStamp(func(doc json.RawMessage, recid string) (json.RawMessage, error) {
			return json.RawMessage(`{"pids":{"recid":"` + recid + `"}}`), nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		if string(rec4.JSON) != `{"pids":{"recid":"4"}}` {
			t.Fatalf("WithRecidStamp: %s", rec4.JSON)
		}
	})
}

func TestWithoutMigrations(t *testing.T) {
	ctx := context.Background()
	db := sqldbtest.Fresh(t, sqldb.SQLite)
	if _, err := pid.New(ctx, db, pid.WithoutMigrations()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Get(&n, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'records_pids'"); err != nil || n != 0 {
		t.Fatalf("WithoutMigrations created the tables (n=%d, err=%v)", n, err)
	}
	if _, err := pid.New(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&n, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'records_pids'"); err != nil || n != 1 {
		t.Fatalf("New did not create the tables (n=%d, err=%v)", n, err)
	}
}
