package records_test

import (
	"context"
	"sync"
	"testing"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
)

// TestConcurrentMigrations: several "processes" (separate connection
// pools) open a store on the same empty database at once; every one
// succeeds and the migration is applied exactly once.
func TestConcurrentMigrations(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		url := sqldbtest.FreshURL(t, d)
		const n = 4
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := records.Open(ctx, url)
				if err != nil {
					errs <- err
					return
				}
				defer s.Close()
				if _, err := s.Create(ctx, []byte(`{"ok": true}`)); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		s, err := records.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := count(t, s.DB(), "records_metadata"); got != n {
			t.Fatalf("%d records, want %d", got, n)
		}
		if got := count(t, s.DB(), "repokit_migrations WHERE component = 'records'"); got != 1 {
			t.Fatalf("records migration applied %d times", got)
		}
	})
}
