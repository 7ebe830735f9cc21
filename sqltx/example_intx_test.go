package sqltx_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3"

	"github.com/repokit/repokit/sqltx"
)

// A retried transaction: moving stock between two rows. If the database
// aborts the transaction because a concurrent one deadlocked with it
// (PostgreSQL 40P01, MySQL/MariaDB 1213), hit a serialization failure
// (40001) or found the database busy (SQLite), InTx rolls back and runs the
// whole function again, up to sqltx.MaxAttempts times, so the function must
// only touch tx (side effects go to AfterCommit). Any other error rolls
// back and is returned as is.
func ExampleInTx() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sqltx-example-")
	defer os.RemoveAll(dir)
	// Any *sqlx.DB works: the host's own, or a RepoKit store's DB().
	db, err := sqlx.Open("sqlite3", "file:"+filepath.Join(dir, "shop.db")+"?_txlock=immediate&_busy_timeout=5000")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.MustExec("CREATE TABLE stock (place TEXT PRIMARY KEY, n INTEGER NOT NULL)")
	db.MustExec("INSERT INTO stock VALUES ('shelf', 10), ('store', 0)")

	move := func(from, to string, n int) error {
		return sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
			var have int
			if err := tx.GetContext(ctx, &have, "SELECT n FROM stock WHERE place = ?", from); err != nil {
				return err
			}
			if have < n {
				return fmt.Errorf("only %d on the %s", have, from)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE stock SET n = n - ? WHERE place = ?", n, from); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "UPDATE stock SET n = n + ? WHERE place = ?", n, to)
			return err
		})
	}
	fmt.Println(move("shelf", "store", 4))
	fmt.Println(move("shelf", "store", 7))
	var shelf, store int
	_ = db.Get(&shelf, "SELECT n FROM stock WHERE place = 'shelf'")
	_ = db.Get(&store, "SELECT n FROM stock WHERE place = 'store'")
	fmt.Println(shelf, store)
	// Output:
	// <nil>
	// only 6 on the shelf
	// 6 4
}
