package files_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/storage"
)

// slowReader streams bytes forever, slowly.
type slowReader struct{}

func (slowReader) Read(p []byte) (int, error) {
	time.Sleep(2 * time.Millisecond)
	n := min(len(p), 64<<10)
	clear(p[:n])
	return n, nil
}

func openKillStore(t *testing.T, dbURL, dir string) (*files.Store, *storage.Locations) {
	ctx := context.Background()
	u := (&url.URL{Scheme: "file", Path: dir, RawQuery: "create_dir=1"}).String()
	locs, err := storage.Open(ctx, u, storage.WithName("local"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := files.Open(ctx, dbURL, locs)
	if err != nil {
		t.Fatal(err)
	}
	return s, locs
}

// TestHelperProcess is the child of TestKilledUpload: it uploads an
// endless stream until it is killed.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("FILES_HELPER") != "put" {
		t.Skip("helper process only")
	}
	s, _ := openKillStore(t, os.Getenv("FILES_DB"), os.Getenv("FILES_DIR"))
	_, err := s.Put(context.Background(), os.Getenv("FILES_BUCKET"), "killed.bin", slowReader{}, files.PutOptions{})
	t.Fatalf("endless upload returned: %v", err)
}

// TestKilledUpload SIGKILLs a process in the middle of an upload: nothing
// becomes visible, committed files are intact, and GC removes the partial
// bytes the dead process left.
func TestKilledUpload(t *testing.T) {
	ctx := context.Background()
	dbURL := sqldbtest.FreshURL(t, sqldb.SQLite)
	dir := filepath.Join(t.TempDir(), "local")
	s, locs := openKillStore(t, dbURL, dir)
	defer locs.Close()
	defer s.Close()
	b, err := s.CreateBucket(ctx, files.BucketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := s.Put(ctx, b.ID, "kept.txt", strings.NewReader("committed"), files.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "FILES_HELPER=put", "FILES_DB="+dbURL, "FILES_DIR="+dir, "FILES_BUCKET="+b.ID)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	loc, _ := locs.Get("local")
	partial := func() []string {
		var tmp []string
		for info, err := range loc.List(ctx, "") {
			if err == nil && info.Key != kept.File.StorageKey && info.Size > 1<<20 {
				tmp = append(tmp, info.Key)
			}
		}
		return tmp
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(partial()) == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("child never started writing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	left := partial()
	if len(left) != 1 {
		t.Fatalf("partial bytes after kill: %v", left)
	}
	if _, err := s.Object(ctx, b.ID, "killed.bin", ""); err == nil {
		t.Fatal("killed upload is visible")
	}
	time.Sleep(20 * time.Millisecond)
	rep, err := s.CollectGarbage(ctx, files.GCOptions{BytesGrace: 10 * time.Millisecond})
	if err != nil || rep.StrayBytes != 1 {
		t.Fatalf("gc = %+v %v", rep, err)
	}
	if left := partial(); len(left) != 0 {
		t.Fatalf("left after gc: %v", left)
	}
	if got := readAll(t, s, kept); string(got) != "committed" {
		t.Fatalf("committed file = %q", got)
	}
}
