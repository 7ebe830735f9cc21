package records_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
)

// TestCreateManyHistory checks the batched revision-0 rows on every
// dialect (on MySQL they are copied from the rows just written): one per
// record, over a full and a partial batch, with the document as amended by
// a Before hook, the create op and the creation time.
func TestCreateManyHistory(t *testing.T) {
	for _, d := range sqldbtest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			db := sqldbtest.Fresh(t, d)
			s := newStore(t, db)
			s.On(records.Before, records.OpCreate, func(_ context.Context, _ *sqlx.Tx, ev *records.Event) error {
				var m map[string]any
				if err := json.Unmarshal(ev.Record.JSON, &m); err != nil {
					return err
				}
				m["amended"] = true
				b, err := json.Marshal(m)
				ev.Record.JSON = b
				return err
			})
			ctx := context.Background()
			docs := make([]json.RawMessage, 501)
			for i := range docs {
				docs[i] = json.RawMessage(fmt.Sprintf(`{"i": %d}`, i))
			}
			recs, err := s.CreateMany(ctx, docs)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range recs {
				revs, err := s.Revisions(ctx, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				if len(revs) != 1 {
					t.Fatalf("record %d has %d revisions, want 1", i, len(revs))
				}
				rev := revs[0]
				if rev.Revision != 0 || rev.Op != records.OpCreate || rev.Deleted || !rev.Committed.Equal(r.Created) {
					t.Fatalf("record %d: revision %+v, created %v", i, rev, r.Created)
				}
				jsonEqual(t, rev.JSON, fmt.Sprintf(`{"i": %d, "amended": true}`, i))
				got := mustGet(t, s, r.ID)
				jsonEqual(t, got.JSON, string(rev.JSON))
			}
		})
	}
}
