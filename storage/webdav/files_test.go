package webdav_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/storage/webdav/webdavtest"
)

func md5b64(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// filesEnv is a files.Store whose default location "dav" is a fresh WebDAV
// location of driver d, next to a file:// location "local".
func filesEnv(t *testing.T, open func(*testing.T, ...storage.Option) *storage.Location) (*files.Store, *storage.Locations) {
	t.Helper()
	ctx := context.Background()
	dav := open(t)
	localURL := (&url.URL{Scheme: "file", Path: t.TempDir()}).String()
	local, err := storage.OpenLocation(ctx, "local", localURL)
	if err != nil {
		t.Fatal(err)
	}
	// The same collection as a location named "dav" (the test servers have
	// no credentials, so URL() is the full URL).
	dav2, err := storage.OpenLocation(ctx, "dav", dav.URL())
	if err != nil {
		t.Fatal(err)
	}
	locs, err := storage.New(ctx, dav2, local)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { locs.Close() })
	s, err := files.New(ctx, sqldbtest.Fresh(t, sqldb.SQLite), locs, files.WithMinPartSize(1), files.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return s, locs
}

func readObject(t *testing.T, s *files.Store, o *files.Object) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func locationKeys(t *testing.T, l *storage.Location) []string {
	t.Helper()
	var keys []string
	for o, err := range l.List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key)
	}
	slices.Sort(keys)
	return keys
}

// TestFiles runs files' byte paths on each WebDAV server: put with
// Content-MD5, ranged reads, multipart, fixity; then migrates every file
// from WebDAV to file:// and back while other writes continue, checks every
// file's fixity afterwards and that garbage collection leaves exactly the
// referenced bytes.
func TestFiles(t *testing.T) {
	for _, d := range webdavtest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			testFiles(t, d.Open)
		})
	}
}

func testFiles(t *testing.T, open func(*testing.T, ...storage.Option) *storage.Location) {
	ctx := context.Background()
	s, locs := filesEnv(t, open)
	dav, _ := locs.Get("dav")
	local, _ := locs.Get("local")
	b, err := s.CreateBucket(ctx, files.BucketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	payload := data(300001)
	o, err := s.Put(ctx, b.ID, "paper.pdf", bytes.NewReader(payload), files.PutOptions{Size: int64(len(payload)), ContentMD5: md5b64(payload)})
	if err != nil || o.File.Location != "dav" {
		t.Fatalf("put %+v %v", o, err)
	}
	if _, err := s.Put(ctx, b.ID, "bad.bin", bytes.NewReader(payload), files.PutOptions{ContentMD5: md5b64(payload[1:])}); err == nil {
		t.Fatal("a wrong Content-MD5 was accepted")
	}
	r, err := s.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Seek(250000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(tail, payload[250000:]) {
		t.Fatalf("ranged read: %d bytes, %v", len(tail), err)
	}
	u, err := s.InitUpload(ctx, b.ID, "multi.bin", int64(len(payload)), 100000, files.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{4, 2, 1, 3} {
		p := payload[(n-1)*100000 : min(n*100000, len(payload))]
		if _, err := s.UploadPart(ctx, b.ID, "multi.bin", u.ID, n, bytes.NewReader(p), int64(len(p)), md5b64(p)); err != nil {
			t.Fatalf("part %d: %v", n, err)
		}
	}
	m, err := s.CompleteUpload(ctx, b.ID, "multi.bin", u.ID)
	if err != nil || m.File.MD5 != o.File.MD5 {
		t.Fatalf("complete %+v %v", m, err)
	}
	if got := readObject(t, s, m); !bytes.Equal(got, payload) {
		t.Fatal("multipart object differs")
	}
	for _, id := range []string{o.File.ID, m.File.ID} {
		if res, err := s.Verify(ctx, id); err != nil || res != files.CheckOK {
			t.Fatalf("verify %s: %v %v", id, res, err)
		}
	}

	// Migration both ways while writers keep adding files.
	want := map[string][]byte{"paper.pdf": payload, "multi.bin": payload}
	var wmu sync.Mutex
	for i := range 10 {
		k := fmt.Sprintf("pre-%02d", i)
		body := data(1000 + i*777)
		if _, err := s.Put(ctx, b.ID, k, bytes.NewReader(body), files.PutOptions{Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		want[k] = body
	}
	migrate := func(from, to string) {
		t.Helper()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var written atomic.Int32
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					k := fmt.Sprintf("during-%s-%d-%03d", from, w, i)
					body := data(500 + i*131 + w)
					if _, err := s.Put(ctx, b.ID, k, bytes.NewReader(body), files.PutOptions{}); err != nil {
						t.Errorf("put %s during migration: %v", k, err)
						return
					}
					written.Add(1)
					wmu.Lock()
					want[k] = body
					wmu.Unlock()
				}
			}()
		}
		// Keep migrating until the writers have added files during it.
		var merr error
		for {
			merr = s.MigrateLocation(ctx, from, to, 3, files.MoveOptions{}, nil)
			if merr != nil || written.Load() >= 4 {
				break
			}
		}
		close(stop)
		wg.Wait()
		if merr != nil {
			t.Fatalf("migrate %s → %s: %v", from, to, merr)
		}
		// Files written after the last pass may still be in from: move them.
		if err := s.MigrateLocation(ctx, from, to, 3, files.MoveOptions{}, nil); err != nil {
			t.Fatalf("final migrate %s → %s: %v", from, to, err)
		}
	}
	check := func(loc string) {
		t.Helper()
		page, err := s.List(ctx, b.ID, files.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for page != nil {
			for _, o := range page.Objects {
				seen++
				if o.File.Location != loc {
					t.Fatalf("%s is in %s, want %s", o.Key, o.File.Location, loc)
				}
				if got := readObject(t, s, o); !bytes.Equal(got, want[o.Key]) {
					t.Fatalf("%s: %d bytes differ from the %d written", o.Key, len(got), len(want[o.Key]))
				}
				if res, err := s.Verify(ctx, o.File.ID); err != nil || res != files.CheckOK {
					t.Fatalf("fixity of %s after migration: %v %v", o.Key, res, err)
				}
			}
			if page.Next == "" {
				break
			}
			if page, err = s.List(ctx, b.ID, files.ListOptions{Cursor: page.Next}); err != nil {
				t.Fatal(err)
			}
		}
		if seen != len(want) {
			t.Fatalf("%d objects listed, %d written", seen, len(want))
		}
	}
	migrate("dav", "local")
	check("local")
	if keys := locationKeys(t, dav); len(keys) != 0 {
		t.Fatalf("left in dav after migrating away: %v", keys)
	}
	// New files now land in dav again (its default): migrate everything back.
	migrate("local", "dav")
	check("dav")
	if keys := locationKeys(t, local); len(keys) != 0 {
		t.Fatalf("left in local after migrating back: %v", keys)
	}
	// Every fixity check of the store passes, and GC leaves exactly the
	// referenced bytes in dav (no temporary or part left).
	rep, err := s.RunChecks(ctx, time.Nanosecond, 1000, 1<<30)
	if err != nil || len(rep.Mismatch) != 0 || len(rep.Unreadable) != 0 || rep.Checked == 0 {
		t.Fatalf("RunChecks = %+v, %v", rep, err)
	}
	if _, err := s.CollectGarbage(ctx, files.GCOptions{BytesGrace: time.Nanosecond}); err != nil {
		t.Fatal(err)
	}
	var refs []string
	page, _ := s.List(ctx, b.ID, files.ListOptions{})
	for page != nil {
		for _, o := range page.Objects {
			refs = append(refs, o.File.StorageKey)
		}
		if page.Next == "" {
			break
		}
		page, _ = s.List(ctx, b.ID, files.ListOptions{Cursor: page.Next})
	}
	slices.Sort(refs)
	refs = slices.Compact(refs)
	if keys := locationKeys(t, dav); !slices.Equal(keys, refs) {
		t.Fatalf("dav holds %d keys, rows reference %d", len(keys), len(refs))
	}
}
