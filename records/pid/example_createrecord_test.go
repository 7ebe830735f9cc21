package pid_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
)

// Mint before create: the recid is minted and written into the document
// before the record is created, so revision 0 already carries it, and a
// failure leaves neither record nor recid behind.
func ExampleStore_CreateRecord() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "pid-example-")
	defer os.RemoveAll(dir)
	recs, err := records.Open(ctx, "sqlite://"+filepath.Join(dir, "repo.db"))
	if err != nil {
		panic(err)
	}
	defer recs.Close()
	pids, err := pid.New(ctx, recs.DB())
	if err != nil {
		panic(err)
	}

	rec, recid, err := pids.CreateRecord(ctx, recs, json.RawMessage(`{"title":"Relativity"}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(recid, recid.Status.Name())
	fmt.Printf("revision %d: %s\n", rec.Revision, rec.JSON)
	// Output:
	// recid:1 registered
	// revision 0: {"id":"1","title":"Relativity"}
}
