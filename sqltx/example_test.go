package sqltx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/sqltx"
)

// A write and its side effect: the notification is sent only once the
// record is committed, and the whole function is retried if the database
// reports a serialization failure.
func ExampleAfterCommit() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sqltx-example-")
	defer os.RemoveAll(dir)
	recs, err := records.Open(ctx, "sqlite://"+filepath.Join(dir, "repo.db"))
	if err != nil {
		panic(err)
	}
	defer recs.Close()

	err = sqltx.InTx(ctx, recs.DB(), func(tx *sqlx.Tx) error {
		rec, err := recs.WithTx(tx).Create(ctx, json.RawMessage(`{"title":"Relativity"}`))
		if err != nil {
			return err
		}
		fmt.Println("created, not yet committed")
		return sqltx.AfterCommit(tx, func(ctx context.Context) {
			fmt.Println("committed revision", rec.Revision)
		})
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// created, not yet committed
	// committed revision 0
}
