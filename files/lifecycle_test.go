package files_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/filestest"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/storage"
)

func TestVerifyAndSchedule(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		env := filestest.New(t, string(d), filestest.Options{})
		s := env.Store
		b, _ := s.CreateBucket(ctx, files.BucketOptions{})
		var objs []*files.Object
		for i, body := range []string{"aaaa", "bbbbbbbb", "cc", "dddddd"} {
			o, err := s.Put(ctx, b.ID, string(rune('a'+i)), strings.NewReader(body), files.PutOptions{})
			if err != nil {
				t.Fatal(err)
			}
			objs = append(objs, o)
		}
		// First batch: never-checked files in creation order, limited by
		// count and bytes (at least one file).
		due, err := s.ScheduleChecks(ctx, time.Hour, 3, 12)
		if err != nil || len(due) != 2 || due[0].ID != objs[0].File.ID || due[1].ID != objs[1].File.ID {
			t.Fatalf("due = %v %v", ids(due), err)
		}
		if due, _ = s.ScheduleChecks(ctx, time.Hour, 3, 1); len(due) != 1 {
			t.Fatalf("byte limit below one file: %d", len(due))
		}
		rep, err := s.RunChecks(ctx, time.Hour, 2, 0)
		if err != nil || rep.Checked != 2 || rep.OK != 2 {
			t.Fatalf("run checks = %+v %v", rep, err)
		}
		due, _ = s.ScheduleChecks(ctx, time.Hour, 10, 0)
		if len(due) != 2 || due[0].ID != objs[2].File.ID {
			t.Fatalf("after a batch, due = %v", ids(due))
		}
		// Tamper with c's bytes, delete d's.
		loc, _ := env.Locs.Get("local")
		if _, err := loc.Write(ctx, objs[2].File.StorageKey, strings.NewReader("CC"), storage.WriteOptions{ExpectedSize: storage.UnknownSize}); err != nil {
			t.Fatal(err)
		}
		if err := loc.Delete(ctx, objs[3].File.StorageKey); err != nil {
			t.Fatal(err)
		}
		rep, err = s.RunChecks(ctx, time.Hour, 0, 0)
		if err != nil || rep.Checked != 2 || len(rep.Mismatch) != 1 || rep.Mismatch[0] != objs[2].File.ID || len(rep.Unreadable) != 1 {
			t.Fatalf("tampered checks = %+v %v", rep, err)
		}
		f, _ := s.FileInstance(ctx, objs[3].File.ID)
		if f.LastCheck != files.CheckUnreadable || f.LastCheckAt.IsZero() {
			t.Fatalf("recorded %+v", f)
		}
		// Everything was checked within the period: nothing is due; with a
		// tiny period everything is, oldest check first.
		if due, _ = s.ScheduleChecks(ctx, time.Hour, 0, 0); len(due) != 0 {
			t.Fatalf("due within period: %v", ids(due))
		}
		time.Sleep(5 * time.Millisecond)
		if due, _ = s.ScheduleChecks(ctx, time.Millisecond, 0, 0); len(due) != 4 || due[0].ID != objs[0].File.ID {
			t.Fatalf("due after period: %v", ids(due))
		}
	})
}

func ids(fs []*files.FileInstance) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

// TestMoveFile: moving a file while a reader is reading it; versions that
// share the instance follow; old bytes go.
func TestMoveFile(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		env := filestest.New(t, string(d), filestest.Options{})
		s := env.Store
		b, _ := s.CreateBucket(ctx, files.BucketOptions{})
		data := randomBytes(3 << 20)
		o, err := s.Put(ctx, b.ID, "data.bin", bytes.NewReader(data), files.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cp, err := s.Copy(ctx, b.ID, "data.bin", b.ID, "copy.bin")
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Open(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 1000)
		if _, err := io.ReadFull(r, head); err != nil {
			t.Fatal(err)
		}
		f, err := s.MoveFile(ctx, o.File.ID, "archive", files.MoveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if f.Location != "archive" || f.StorageKey == o.File.StorageKey || f.SHA256 != o.File.SHA256 {
			t.Fatalf("moved = %+v", f)
		}
		rest, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(append(head, rest...), data) {
			t.Fatalf("reader during move: %d bytes, err %v", len(head)+len(rest), err)
		}
		if keys := env.Keys(t, "local"); len(keys) != 0 {
			t.Fatalf("old bytes left: %v", keys)
		}
		got, _ := s.Object(ctx, b.ID, "copy.bin", "")
		if got.File.Location != "archive" || got.File.ID != cp.File.ID {
			t.Fatalf("copy did not follow: %+v", got.File)
		}
		if b := readAll(t, s, got); !bytes.Equal(b, data) {
			t.Fatal("moved content differs")
		}
		// A corrupted source is refused and nothing changes.
		arch, _ := env.Locs.Get("archive")
		if _, err := arch.Write(ctx, f.StorageKey, strings.NewReader("corrupt"), storage.WriteOptions{ExpectedSize: storage.UnknownSize}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MoveFile(ctx, f.ID, "local", files.MoveOptions{}); err == nil {
			t.Fatal("moved a corrupt file")
		}
		if f2, _ := s.FileInstance(ctx, f.ID); f2.Location != "archive" {
			t.Fatalf("row switched despite failure: %+v", f2)
		}
		if keys := env.Keys(t, "local"); len(keys) != 0 {
			t.Fatalf("failed move left bytes: %v", keys)
		}
	})
}

func TestMigrateLocation(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		env := filestest.New(t, string(d), filestest.Options{})
		s := env.Store
		b, _ := s.CreateBucket(ctx, files.BucketOptions{})
		for i := range 12 {
			if _, err := s.Put(ctx, b.ID, string(rune('a'+i)), strings.NewReader(strings.Repeat("z", i+1)), files.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		var calls []files.MigrateProgress
		err := s.MigrateLocation(ctx, "local", "mem", 3, files.MoveOptions{}, func(p files.MigrateProgress) {
			mu.Lock()
			calls = append(calls, p)
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		last := calls[len(calls)-1]
		if len(calls) != 12 || last.Done != 12 || last.Total != 12 || last.Bytes != 78 {
			t.Fatalf("progress: %d calls, last %+v", len(calls), last)
		}
		if keys := env.Keys(t, "local"); len(keys) != 0 {
			t.Fatalf("left in local: %v", keys)
		}
		page, _ := s.List(ctx, b.ID, files.ListOptions{})
		for _, o := range page.Objects {
			if o.File.Location != "mem" || len(readAll(t, s, o)) != int(o.File.Size) {
				t.Fatalf("%s not migrated: %+v", o.Key, o.File)
			}
		}
	})
}

// TestGCOrphans: versions removed → their unshared instance goes (row and
// bytes); shared instances stay; a crash after marking is finished later.
func TestGCOrphans(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		env := filestest.New(t, string(d), filestest.Options{})
		s := env.Store
		b, _ := s.CreateBucket(ctx, files.BucketOptions{})
		a, _ := s.Put(ctx, b.ID, "a", strings.NewReader("aaa"), files.PutOptions{})
		shared, _ := s.Put(ctx, b.ID, "s", strings.NewReader("sss"), files.PutOptions{})
		if _, err := s.Copy(ctx, b.ID, "s", b.ID, "s2"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteVersion(ctx, b.ID, "a", a.VersionID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteVersion(ctx, b.ID, "s", shared.VersionID); err != nil {
			t.Fatal(err)
		}
		// A delete marker keeps versions (and their files) alive.
		if _, err := s.Delete(ctx, b.ID, "s2"); err != nil {
			t.Fatal(err)
		}
		rep, err := s.CollectGarbage(ctx, files.GCOptions{SkipBytes: true})
		if err != nil || rep.OrphanFiles != 1 || rep.BytesFreed != 3 {
			t.Fatalf("gc = %+v %v", rep, err)
		}
		if _, err := s.FileInstance(ctx, a.File.ID); !errors.Is(err, files.ErrNotFound) {
			t.Fatalf("orphan row kept: %v", err)
		}
		if _, err := s.FileInstance(ctx, shared.File.ID); err != nil {
			t.Fatalf("shared instance removed: %v", err)
		}
		keys := env.Keys(t, "local")
		if len(keys) != 1 || keys[0] != shared.File.StorageKey {
			t.Fatalf("keys = %v", keys)
		}
		// Purging the bucket orphans the rest.
		if err := s.PurgeBucket(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if rep, err = s.CollectGarbage(ctx, files.GCOptions{}); err != nil || rep.OrphanFiles != 1 {
			t.Fatalf("gc after purge = %+v %v", rep, err)
		}
		if keys := env.Keys(t, "local"); len(keys) != 0 {
			t.Fatalf("keys after purge = %v", keys)
		}
	})
}
