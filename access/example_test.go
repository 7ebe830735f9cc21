package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
)

// One policy, consulted by records (writes, through Guard; reads through
// CheckRead) and search (as the searcher's permission filter).
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "access-example-")
	defer os.RemoveAll(dir)
	recs, err := records.Open(ctx, "sqlite://"+filepath.Join(dir, "repo.db"))
	if err != nil {
		panic(err)
	}
	defer recs.Close()
	policy := ownerPolicy()
	recs.Guard(policy)

	alice := access.WithIdentity(ctx, access.Identity{ID: "alice"})
	bob := access.WithIdentity(ctx, access.Identity{ID: "bob"})
	rec, err := recs.Create(alice, json.RawMessage(`{"owners":["alice"],"title":"Draft"}`))
	if err != nil {
		panic(err)
	}
	_, err = recs.Update(bob, rec.ID, json.RawMessage(`{"owners":["bob"]}`), rec.Revision)
	fmt.Println("bob updates:", errors.Is(err, access.ErrForbidden), err)
	fmt.Println("bob reads:", records.CheckRead(bob, policy, rec))
	fmt.Println("alice reads:", records.CheckRead(alice, policy, rec))

	q, _ := search.PolicyPermission(policy)(bob)
	fmt.Printf("bob's search filter: %+v\n", q)
	// Output:
	// bob updates: true access: not allowed to update this record
	// bob reads: access: not allowed to read this record
	// alice reads: <nil>
	// bob's search filter: {Must:[] Should:[{Field:public Values:[true]} {Field:owners Values:[bob]}] MustNot:[] Filter:[]}
}
