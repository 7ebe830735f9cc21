package records_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/records"
)

type counterDoc struct {
	Title string `json:"title"`
	N     int    `json:"n"`
}

func increment(calls *atomic.Int64) func(cur *records.Record) (json.RawMessage, error) {
	return func(cur *records.Record) (json.RawMessage, error) {
		calls.Add(1)
		var d counterDoc
		if err := json.Unmarshal(cur.JSON, &d); err != nil {
			return nil, err
		}
		d.N++
		return json.Marshal(d)
	}
}

// TestModifyConcurrent: 16 writers increment one counter 10 times each
// through Modify. No increment is lost (the lost update a plain
// read-then-write would have) and every write is one revision; how many
// conflicts were retried is logged.
func TestModifyConcurrent(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		const writers, each = 16, 10
		ctx := context.Background()
		s := newStore(t, sqldbtest.Fresh(t, d))
		r := mustCreate(t, s, `{"title": "counter", "n": 0}`)
		var calls atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		start := make(chan struct{})
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range each {
					if _, err := s.Modify(ctx, r.ID, increment(&calls), records.MaxTries(1000)); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got := mustGet(t, s, r.ID)
		var doc counterDoc
		if err := json.Unmarshal(got.JSON, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.N != writers*each || got.Revision != writers*each {
			t.Fatalf("counter %d at revision %d, want %d and %d", doc.N, got.Revision, writers*each, writers*each)
		}
		t.Logf("%s: %d writes took %d calls of fn (%d conflicts)", d, writers*each, calls.Load(), calls.Load()-writers*each)
	})
}

// TestModifyRetriesAndStops: a conflict makes Modify read again and call fn
// again; MaxTries(1) gives up with ErrConflict; a nil document writes
// nothing; fn's error and a missing record stop it at once.
func TestModifyRetriesAndStops(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, sqldbtest.Fresh(t, sqldb.SQLite))
	r := mustCreate(t, s, `{"title": "a", "n": 0}`)

	// fn's first call loses a race against another writer.
	var calls atomic.Int64
	racing := func(cur *records.Record) (json.RawMessage, error) {
		if calls.Add(1) == 1 {
			if _, err := s.Update(ctx, r.ID, json.RawMessage(`{"title": "other writer", "n": 10}`), cur.Revision); err != nil {
				return nil, err
			}
		}
		var d counterDoc
		_ = json.Unmarshal(cur.JSON, &d)
		d.N++
		return json.Marshal(d)
	}
	got, err := s.Modify(ctx, r.ID, racing, records.Backoff(time.Millisecond, time.Millisecond))
	if err != nil || calls.Load() != 2 || got.Revision != 2 {
		t.Fatalf("after a conflict: %+v, %v, fn called %d times", got, err, calls.Load())
	}
	jsonEqual(t, mustGet(t, s, r.ID).JSON, `{"title": "other writer", "n": 11}`)

	calls.Store(0)
	if _, err := s.Modify(ctx, r.ID, racing, records.MaxTries(1)); !errors.Is(err, records.ErrConflict) {
		t.Fatalf("MaxTries(1) after a conflict: %v, want ErrConflict", err)
	}

	cur := mustGet(t, s, r.ID)
	got, err = s.Modify(ctx, r.ID, func(*records.Record) (json.RawMessage, error) { return nil, nil })
	if err != nil || got.Revision != cur.Revision || mustGet(t, s, r.ID).Revision != cur.Revision {
		t.Fatalf("nil document: %+v, %v; want no write", got, err)
	}
	boom := fmt.Errorf("refused")
	if _, err := s.Modify(ctx, r.ID, func(*records.Record) (json.RawMessage, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	if _, err := s.Modify(ctx, r.ID, func(*records.Record) (json.RawMessage, error) {
		return json.RawMessage(`{"$schema": "` + articleSchemaURI + `"}`), nil
	}); !errors.Is(err, records.ErrSchema) {
		t.Fatalf("invalid document: %v, want ErrSchema", err)
	}
	if _, err := s.Delete(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Modify(ctx, r.ID, racing); !errors.Is(err, records.ErrNotFound) {
		t.Fatalf("deleted record: %v, want ErrNotFound", err)
	}
}
