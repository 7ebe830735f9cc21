package records_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/uuid"

	"github.com/repokit/repokit/records"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "records-example-")
	defer os.RemoveAll(dir)

	store, err := records.Open(ctx, "sqlite://"+filepath.Join(dir, "records.db"),
		records.WithSchema("https://example.org/article.json", []byte(`{"type": "object", "required": ["title"]}`)))
	if err != nil {
		panic(err)
	}
	defer store.Close()

	id := uuid.MustParse("0190a7e4-0000-7000-8000-000000000001")
	rec, _ := store.Create(ctx, json.RawMessage(`{"$schema": "https://example.org/article.json", "title": "Draft"}`), records.WithID(id))
	fmt.Println("created revision", rec.Revision)

	rec, _ = store.Update(ctx, id, json.RawMessage(`{"$schema": "https://example.org/article.json", "title": "Final"}`), rec.Revision)
	fmt.Println("updated to revision", rec.Revision)

	_, err = store.Update(ctx, id, json.RawMessage(`{"title": "lost?"}`), 0)
	fmt.Println("stale update is a conflict:", errors.Is(err, records.ErrConflict))

	_, err = store.Update(ctx, id, json.RawMessage(`{"$schema": "https://example.org/article.json"}`), rec.Revision)
	var ve *records.ValidationError
	if errors.As(err, &ve) {
		fmt.Println("invalid:", ve.Errors[0].Message)
	}

	rec, _ = store.Revert(ctx, id, 0)
	fmt.Printf("reverted: revision %d, %s\n", rec.Revision, rec.JSON)

	revs, _ := store.Revisions(ctx, id)
	for _, r := range revs {
		fmt.Println(r.Revision, r.Op)
	}
	// Output:
	// created revision 0
	// updated to revision 1
	// stale update is a conflict: true
	// invalid: missing property 'title'
	// reverted: revision 2, {"$schema": "https://example.org/article.json", "title": "Draft"}
	// 0 create
	// 1 update
	// 2 revert
}

// A store that checks every document: those without "$schema" are checked
// against a default schema (WithDefaultSchema), or refused with
// ErrNoSchema (WithRequiredSchema).
func ExampleWithDefaultSchema() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "records-example-")
	defer os.RemoveAll(dir)
	const uri = "https://example.org/article.json"
	store, err := records.Open(ctx, "sqlite://"+filepath.Join(dir, "records.db"),
		records.WithSchema(uri, []byte(`{"type": "object", "required": ["title"]}`)),
		records.WithDefaultSchema(uri))
	if err != nil {
		panic(err)
	}
	defer store.Close()

	_, err = store.Create(ctx, json.RawMessage(`{"year": 1905}`))
	fmt.Println("no title:", errors.Is(err, records.ErrSchema))
	_, err = store.Create(ctx, json.RawMessage(`{"title": "Relativity"}`))
	fmt.Println("with title:", err)
	// Output:
	// no title: true
	// with title: <nil>
}
