package records_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/repokit/repokit/records"
)

// testConcurrentUpdates: 50 goroutines each read the record and update it
// with the revision they read, retrying on ErrConflict until they win once.
// Exactly one writer wins each revision, the final revision equals the number
// of successful updates, and every winner's document is in the history.
func testConcurrentUpdates(t *testing.T, e *env) {
	const writers = 50
	ctx := context.Background()
	r := mustCreate(t, e.s, `{"writer": -1}`)
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		conflicts int
		won       = map[int64]int{} // revision -> writer
	)
	errs := make(chan error, writers)
	start := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start // all writers race from the same moment
			doc := json.RawMessage(fmt.Sprintf(`{"writer": %d}`, w))
			for {
				cur, err := e.s.Get(ctx, r.ID)
				if err != nil {
					errs <- err
					return
				}
				u, err := e.s.Update(ctx, r.ID, doc, cur.Revision)
				if errors.Is(err, records.ErrConflict) {
					mu.Lock()
					conflicts++
					mu.Unlock()
					continue
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				mu.Lock()
				if prev, dup := won[u.Revision]; dup {
					errs <- fmt.Errorf("revision %d won by writers %d and %d", u.Revision, prev, w)
				}
				won[u.Revision] = w
				mu.Unlock()
				return
			}
		}()
	}
	// A reader lists the revisions while the writers commit: each commit
	// moves the current row into the history, and a listing must never miss
	// or repeat a revision in between.
	done := make(chan struct{})
	readerErr := make(chan error, 1)
	go func() {
		defer close(readerErr)
		for {
			select {
			case <-done:
				return
			default:
			}
			revs, err := e.s.Revisions(ctx, r.ID)
			if err != nil {
				readerErr <- err
				return
			}
			for i, rev := range revs {
				if rev.Revision != int64(i) {
					readerErr <- fmt.Errorf("listing of %d revisions has revision %d at %d", len(revs), rev.Revision, i)
					return
				}
			}
		}
	}()
	close(start)
	wg.Wait()
	close(done)
	if err := <-readerErr; err != nil {
		t.Fatalf("concurrent Revisions: %v", err)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d writers, %d conflicts", writers, conflicts)
	final := mustGet(t, e.s, r.ID)
	if final.Revision != int64(len(won)) || len(won) != writers {
		t.Fatalf("final revision %d, %d successful updates, want %d", final.Revision, len(won), writers)
	}
	revs, err := e.s.Revisions(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != writers+1 {
		t.Fatalf("%d revisions, want %d", len(revs), writers+1)
	}
	seen := map[int]bool{}
	for _, rev := range revs[1:] {
		var d struct{ Writer int }
		if err := json.Unmarshal(rev.JSON, &d); err != nil {
			t.Fatal(err)
		}
		if won[rev.Revision] != d.Writer {
			t.Fatalf("revision %d holds writer %d's document, but writer %d won it", rev.Revision, d.Writer, won[rev.Revision])
		}
		seen[d.Writer] = true
	}
	if len(seen) != writers {
		t.Fatalf("history holds %d writers' documents, want %d (an update was lost)", len(seen), writers)
	}
}
