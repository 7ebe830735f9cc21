package files

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/storage"
)

func newModelStore(t testing.TB, d sqldb.Dialect) *Store {
	t.Helper()
	db := sqldbtest.Fresh(t, d)
	locs, err := storage.Open(context.Background(), "mem://", storage.WithLocation("archive", "mem://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { locs.Close() })
	s, err := New(context.Background(), db, locs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeFile commits a file instance row (no bytes) as a new head of key.
func fakeFile(t *testing.T, s *Store, bucket, key string, size int64) (*Object, error) {
	t.Helper()
	id := uuid.NewString()
	f := &FileInstance{ID: id, Location: "default", StorageKey: s.storageKeyFor(id), Size: size, MD5: "md5:x", SHA256: "sha256:y"}
	return s.commitFile(context.Background(), bucket, key, f, MimetypeOf(key), nil)
}

func TestModel(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		s := newModelStore(t, d)
		// Migrations are idempotent.
		if err := sqldb.Migrate(ctx, s.db, "files", Migrations()); err != nil {
			t.Fatal(err)
		}
		b, err := s.CreateBucket(ctx, BucketOptions{Quota: 100, MaxFileSize: 60, Tags: map[string]string{"a": "1"},
			Routes: map[string]string{"cold": "archive"}})
		if err != nil {
			t.Fatal(err)
		}
		if b.Tags["a"] != "1" || b.LocationFor("cold") != "archive" || b.LocationFor("") != "" || b.StorageClass != "standard" {
			t.Fatalf("bucket = %+v", b)
		}
		if _, err := s.CreateBucket(ctx, BucketOptions{Location: "nowhere"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("unknown location: %v", err)
		}
		v1, err := fakeFile(t, s, b.ID, "a/b.txt", 10)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := fakeFile(t, s, b.ID, "a/b.txt", 20)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fakeFile(t, s, b.ID, "big", 61); !errors.Is(err, ErrFileTooLarge) || !errors.Is(err, ErrTooLarge) {
			t.Fatalf("max file size: %v", err)
		}
		head, err := s.Object(ctx, b.ID, "a/b.txt", "")
		if err != nil || head.VersionID != v2.VersionID || head.Size() != 20 || head.Mimetype != "text/plain; charset=utf-8" {
			t.Fatalf("head = %+v, %v", head, err)
		}
		old, err := s.Object(ctx, b.ID, "a/b.txt", v1.VersionID)
		if err != nil || old.IsHead || old.Size() != 10 {
			t.Fatalf("old = %+v, %v", old, err)
		}
		if b, _ = s.Bucket(ctx, b.ID); b.Size != 30 {
			t.Fatalf("size = %d", b.Size)
		}
		// Quota: 30 used of 100; a 60 would be 90 ok, then 20 more fails.
		if _, err := fakeFile(t, s, b.ID, "c", 60); err != nil {
			t.Fatal(err)
		}
		if _, err := fakeFile(t, s, b.ID, "d", 20); !errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("quota: %v", err)
		}
		// Delete marker hides the key; versions remain.
		m, err := s.Delete(ctx, b.ID, "a/b.txt")
		if err != nil || !m.DeleteMarker() || !m.IsHead {
			t.Fatalf("marker %+v %v", m, err)
		}
		if _, err := s.Object(ctx, b.ID, "a/b.txt", ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted head: %v", err)
		}
		if _, err := s.Delete(ctx, b.ID, "a/b.txt"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("double delete: %v", err)
		}
		page, err := s.List(ctx, b.ID, ListOptions{})
		if err != nil || len(page.Objects) != 1 || page.Objects[0].Key != "c" {
			t.Fatalf("heads = %+v %v", page, err)
		}
		page, err = s.List(ctx, b.ID, ListOptions{Versions: true})
		if err != nil || len(page.Objects) != 4 || page.Objects[0].VersionID != m.VersionID || page.Objects[2].VersionID != v1.VersionID {
			t.Fatalf("versions = %+v %v", page, err)
		}
		// Restore v1: quota 90+10 = 100 fits.
		r, err := s.Restore(ctx, b.ID, "a/b.txt", v1.VersionID)
		if err != nil || !r.IsHead || r.File.ID != v1.File.ID {
			t.Fatalf("restore %+v %v", r, err)
		}
		if b, _ = s.Bucket(ctx, b.ID); b.Size != 100 {
			t.Fatalf("size after restore = %d", b.Size)
		}
		// Remove the head version: the marker becomes head again.
		if err := s.DeleteVersion(ctx, b.ID, "a/b.txt", r.VersionID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Object(ctx, b.ID, "a/b.txt", ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("after removing restored head: %v", err)
		}
		if b, _ = s.Bucket(ctx, b.ID); b.Size != 90 {
			t.Fatalf("size after delete version = %d", b.Size)
		}
		// Lock refuses writes.
		if err := s.LockBucket(ctx, b.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := fakeFile(t, s, b.ID, "e", 1); !errors.Is(err, ErrLocked) {
			t.Fatalf("locked: %v", err)
		}
		if _, err := s.Delete(ctx, b.ID, "c"); !errors.Is(err, ErrLocked) {
			t.Fatalf("locked delete: %v", err)
		}
		if err := s.LockBucket(ctx, b.ID, false); err != nil {
			t.Fatal(err)
		}
		// Copy and snapshot share instances.
		b2, err := s.CreateBucket(ctx, BucketOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cp, err := s.Copy(ctx, b.ID, "c", b2.ID, "copied")
		if err != nil || cp.File.ID == "" {
			t.Fatalf("copy: %+v %v", cp, err)
		}
		snap, err := s.Snapshot(ctx, b.ID, true)
		if err != nil || !snap.Locked || snap.Size != 60 {
			t.Fatalf("snapshot: %+v %v", snap, err)
		}
		sp, _ := s.List(ctx, snap.ID, ListOptions{})
		if len(sp.Objects) != 1 || sp.Objects[0].File.ID != cp.File.ID {
			t.Fatalf("snapshot contents %+v", sp.Objects)
		}
		// Sync b -> b2 with delete extras: "copied" gets a marker, "c" appears.
		if err := s.Sync(ctx, b.ID, b2.ID, true); err != nil {
			t.Fatal(err)
		}
		p2, _ := s.List(ctx, b2.ID, ListOptions{})
		if len(p2.Objects) != 1 || p2.Objects[0].Key != "c" {
			t.Fatalf("sync result %+v", p2.Objects)
		}
		// Soft delete hides the bucket.
		if err := s.DeleteBucket(ctx, b2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.List(ctx, b2.ID, ListOptions{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted bucket list: %v", err)
		}
		if _, err := s.Bucket(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
	})
}

func TestListPagination(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		s := newModelStore(t, d)
		b, err := s.CreateBucket(ctx, BucketOptions{})
		if err != nil {
			t.Fatal(err)
		}
		keys := []string{"A", "a", "a/1", "a/2", "b", "é", "日本"}
		for _, k := range keys {
			for range 2 {
				if _, err := fakeFile(t, s, b.ID, k, 1); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, versions := range []bool{false, true} {
			var got []string
			cursor := ""
			for {
				p, err := s.List(ctx, b.ID, ListOptions{Versions: versions, Cursor: cursor, Limit: 3})
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range p.Objects {
					got = append(got, o.Key)
				}
				if p.Next == "" {
					break
				}
				cursor = p.Next
			}
			want := len(keys)
			if versions {
				want *= 2
			}
			if len(got) != want {
				t.Fatalf("versions=%v got %v", versions, got)
			}
			for i := 1; i < len(got); i++ {
				if got[i] < got[i-1] {
					t.Fatalf("not in byte order: %v", got)
				}
			}
		}
		p, err := s.List(ctx, b.ID, ListOptions{Prefix: "a/"})
		if err != nil || len(p.Objects) != 2 {
			t.Fatalf("prefix: %+v %v", p, err)
		}
		if _, err := s.List(ctx, b.ID, ListOptions{Cursor: "!!"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}

// TestConcurrentQuota: 20 concurrent commits of 10 bytes into a bucket with
// a quota of 100 bytes: exactly 10 succeed and the size is exact.
func TestConcurrentQuotaCommit(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		s := newModelStore(t, d)
		b, err := s.CreateBucket(ctx, BucketOptions{Quota: 100})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, over := 0, 0
		keys := map[string]bool{}
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("k%d", i%5)
				_, err := fakeFile(t, s, b.ID, key, 10)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
					keys[key] = true
				case errors.Is(err, ErrQuotaExceeded):
					over++
				default:
					t.Errorf("commit: %v", err)
				}
			}()
		}
		wg.Wait()
		b, _ = s.Bucket(ctx, b.ID)
		if ok != 10 || over != 10 || b.Size != 100 {
			t.Fatalf("ok=%d over=%d size=%d", ok, over, b.Size)
		}
		var heads int
		if err := s.db.Get(&heads, s.db.Rebind("SELECT COUNT(*) FROM files_objects WHERE bucket_id = ? AND is_head = ?"), b.ID, true); err != nil || heads != len(keys) {
			t.Fatalf("heads = %d %v", heads, err)
		}
	})
}

// TestGCFinishesMarkedInstance: a crash after GC marked an instance
// "deleting" (and maybe deleted its bytes) is finished by the next run, and
// no new version can reference a marked instance meanwhile.
func TestGCFinishesMarkedInstance(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		s := newModelStore(t, d)
		b, _ := s.CreateBucket(ctx, BucketOptions{})
		o, err := s.Put(ctx, b.ID, "k", strings.NewReader("bytes"), PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Simulate: GC marked it while a copy of it is attempted.
		if _, err := s.db.Exec(s.db.Rebind("UPDATE files_instances SET status = ? WHERE id = ?"), statusDeleting, o.File.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Copy(ctx, b.ID, "k", b.ID, "k2"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("copy of a deleting instance: %v", err)
		}
		if err := s.DeleteVersion(ctx, b.ID, "k", o.VersionID); err != nil {
			t.Fatal(err)
		}
		loc, _ := s.location(o.File.Location)
		if err := loc.Delete(ctx, o.File.StorageKey); err != nil { // crash after deleting bytes
			t.Fatal(err)
		}
		rep, err := s.CollectGarbage(ctx, GCOptions{OrphanGrace: time.Hour, SkipBytes: true})
		if err != nil || rep.OrphanFiles != 1 {
			t.Fatalf("gc = %+v %v", rep, err)
		}
		if _, err := s.FileInstance(ctx, o.File.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("marked row kept: %v", err)
		}
	})
}

// TestWithTx: writes through WithTx commit or roll back with the caller's
// transaction.
func TestWithTx(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		s := newModelStore(t, d)
		for _, commit := range []bool{false, true} {
			tx, err := s.db.BeginTxx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			ts := s.WithTx(tx)
			b, err := ts.CreateBucket(ctx, BucketOptions{Tags: map[string]string{"t": "1"}})
			if err != nil {
				t.Fatal(err)
			}
			o, err := ts.Put(ctx, b.ID, "in-tx", strings.NewReader("data"), PutOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ts.Copy(ctx, b.ID, "in-tx", b.ID, "copy"); err != nil {
				t.Fatal(err)
			}
			if commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Object(ctx, b.ID, "copy", "")
			if commit && err != nil {
				t.Fatalf("committed object missing: %v", err)
			}
			if !commit && !errors.Is(err, ErrNotFound) {
				t.Fatalf("rolled back object visible: %v", err)
			}
			if !commit {
				// The bytes written for the rolled-back upload are strays.
				time.Sleep(20 * time.Millisecond)
				rep, err := s.CollectGarbage(ctx, GCOptions{BytesGrace: 10 * time.Millisecond})
				if err != nil || rep.StrayBytes != 1 {
					t.Fatalf("gc after rollback = %+v %v (key %s)", rep, err, o.File.StorageKey)
				}
			}
		}
	})
}
