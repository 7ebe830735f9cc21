package files_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/filestest"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

// TestHeadMatchesObject: Head (the download path's single lookup) returns
// what Object does, tags aside, for heads and versions (delete markers and
// checked files included), inside a transaction too, and refuses what
// Object refuses: a deleted head, a deleted bucket, a version of another
// key or bucket, ids that are not UUIDs.
func TestHeadMatchesObject(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		env := filestest.New(t, string(d), filestest.Options{})
		s := env.Store
		b, _ := s.CreateBucket(ctx, files.BucketOptions{})
		other, _ := s.CreateBucket(ctx, files.BucketOptions{})
		v1, err := s.Put(ctx, b.ID, "dir/a.txt", strings.NewReader("one"), files.PutOptions{Tags: map[string]string{"k": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Verify(ctx, v1.File.ID); err != nil { // sets last_check and last_check_at
			t.Fatal(err)
		}
		v2, err := s.Put(ctx, b.ID, "dir/a.txt", strings.NewReader("two!"), files.PutOptions{Mimetype: "text/csv"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, b.ID, "gone", strings.NewReader("x"), files.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		marker, err := s.Delete(ctx, b.ID, "gone")
		if err != nil {
			t.Fatal(err)
		}
		o2, err := s.Put(ctx, other.ID, "dir/a.txt", strings.NewReader("other"), files.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}

		same := func(s *files.Store, key, vid string) {
			t.Helper()
			want, err := s.Object(ctx, b.ID, key, vid)
			if err != nil {
				t.Fatalf("Object(%q, %q): %v", key, vid, err)
			}
			got, err := s.Head(ctx, b.ID, key, vid)
			if err != nil {
				t.Fatalf("Head(%q, %q): %v", key, vid, err)
			}
			want.Tags = nil
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Head(%q, %q) =\n%+v %+v\nObject =\n%+v %+v", key, vid, got, got.File, want, want.File)
			}
		}
		same(s, "dir/a.txt", "")
		same(s, "dir/a.txt", v1.VersionID)
		same(s, "dir/a.txt", v2.VersionID)
		same(s, "gone", marker.VersionID)
		if h, _ := s.Head(ctx, b.ID, "dir/a.txt", v1.VersionID); h.File.LastCheck != files.CheckOK || h.File.LastCheckAt.IsZero() || h.IsHead {
			t.Fatalf("checked old version: %+v %+v", h, h.File)
		}
		if h, _ := s.Head(ctx, b.ID, "gone", marker.VersionID); !h.DeleteMarker() || !h.IsHead {
			t.Fatalf("marker: %+v", h)
		}
		tx, err := s.DB().BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		same(s.WithTx(tx), "dir/a.txt", "")
		same(s.WithTx(tx), "dir/a.txt", v1.VersionID)
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}

		for _, c := range []struct{ bucket, key, vid string }{
			{b.ID, "gone", ""},                // head is a delete marker
			{b.ID, "missing", ""},             // no such key
			{b.ID, "gone", v1.VersionID},      // version of another key
			{b.ID, "dir/a.txt", o2.VersionID}, // version in another bucket
			{b.ID, "dir/a.txt", "not-a-uuid"},
			{"not-a-uuid", "dir/a.txt", ""},
			{strings.ToUpper(b.ID), "dir/a.txt", ""}, // ids compare exactly, as in Object
		} {
			if _, err := s.Head(ctx, c.bucket, c.key, c.vid); !errors.Is(err, files.ErrNotFound) {
				t.Fatalf("Head(%q, %q, %q) = %v, want ErrNotFound", c.bucket, c.key, c.vid, err)
			}
		}
		if err := s.DeleteBucket(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		for _, vid := range []string{"", v2.VersionID} {
			if _, err := s.Head(ctx, b.ID, "dir/a.txt", vid); !errors.Is(err, files.ErrNotFound) {
				t.Fatalf("deleted bucket, version %q: %v", vid, err)
			}
		}
		if _, err := s.Head(ctx, other.ID, "dir/a.txt", ""); err != nil {
			t.Fatalf("other bucket: %v", err)
		}
	})
}
