package repokit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/repokit/repokit"
	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/httperr"
	"github.com/repokit/repokit/records"
)

// Errors of every package are tested by package sentinel when the caller
// cares which package failed, or by kind when it does not; httperr gives
// the HTTP status from the kind, one mapping for every package.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "repokit-example-")
	defer os.RemoveAll(dir)
	store, err := records.Open(ctx, "sqlite://"+filepath.Join(dir, "records.db"))
	if err != nil {
		panic(err)
	}
	defer store.Close()

	rec, _ := store.Create(ctx, json.RawMessage(`{"title": "Draft"}`))
	_, _ = store.Delete(ctx, rec.ID)
	_, err = store.Get(ctx, rec.ID)
	fmt.Println("records.ErrDeleted:", errors.Is(err, records.ErrDeleted))
	fmt.Println("records.ErrNotFound:", errors.Is(err, records.ErrNotFound))
	fmt.Println("repokit.ErrDeleted:", errors.Is(err, repokit.ErrDeleted))
	fmt.Println("repokit.ErrNotFound:", errors.Is(err, repokit.ErrNotFound))
	fmt.Println(httperr.Status(err), httperr.PublicMessage(err))

	// Other packages' errors, as a handler would get them.
	for _, err := range []error{
		fmt.Errorf("upload report.pdf: %w", files.ErrQuotaExceeded),
		fmt.Errorf("get bucket: %w", files.ErrNotFound),
		access.Check(access.WithIdentity(ctx, access.Identity{ID: "alice"}), access.Funcs{}, access.Update,
			access.Resource{Type: "record"}),
	} {
		fmt.Printf("%v | %v | %d\n", err, repokit.KindOf(err), httperr.Status(err))
	}

	// A host's own sentinel gets a kind, and so a status.
	errEmbargoed := repokit.NewError("myrepo: record under embargo", repokit.ErrForbidden)
	err = fmt.Errorf("download: %w", errEmbargoed)
	fmt.Println(errors.Is(err, errEmbargoed), errors.Is(err, repokit.ErrForbidden), httperr.Status(err))
	// Output:
	// records.ErrDeleted: true
	// records.ErrNotFound: true
	// repokit.ErrDeleted: true
	// repokit.ErrNotFound: true
	// 410 this record has been deleted
	// upload report.pdf: files: bucket quota exceeded | too large | 413
	// get bucket: files: not found | not found | 404
	// access: not allowed to update this record | forbidden | 403
	// true true 403
}
