package files_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/filestest"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

// allVersions pages through every version of a bucket.
func allVersions(t *testing.T, s *files.Store, bucket string) []*files.Object {
	t.Helper()
	var out []*files.Object
	cursor := ""
	for {
		page, err := s.List(context.Background(), bucket, files.ListOptions{Versions: true, Cursor: cursor, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Objects...)
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}

// checkAccounting checks the invariants of a quiet store: each bucket's
// size is the sum of its versions' file sizes and within its quota; after
// GC the location holds exactly the bytes of the file instances the
// versions reference (one stored object per instance, of its size) and no
// empty directories.
func checkAccounting(t *testing.T, env *filestest.Env, buckets ...string) {
	t.Helper()
	ctx := context.Background()
	s := env.Store
	live := map[string]int64{} // file instance id -> size
	for _, id := range buckets {
		b, err := s.Bucket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, o := range allVersions(t, s, id) {
			sum += o.Size()
			if o.File != nil {
				live[o.File.ID] = o.File.Size
			}
		}
		if b.Size != sum {
			t.Fatalf("bucket size %d, versions sum to %d", b.Size, sum)
		}
		if b.Quota > 0 && b.Size > b.Quota {
			t.Fatalf("bucket size %d over quota %d", b.Size, b.Quota)
		}
	}
	if _, err := s.CollectGarbage(ctx, files.GCOptions{BytesGrace: time.Nanosecond}); err != nil {
		t.Fatalf("gc: %v", err)
	}
	var want int64
	for _, n := range live {
		want += n
	}
	var stored int64
	var objects int
	root := env.Dirs["local"]
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root {
				if ents, err := os.ReadDir(p); err != nil || len(ents) == 0 {
					t.Errorf("empty directory left after GC: %s (%v)", p, err)
				}
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		stored += info.Size()
		objects++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if stored != want || objects != len(live) {
		t.Fatalf("location holds %d bytes in %d objects; versions reference %d bytes in %d instances", stored, objects, want, len(live))
	}
}

// TestConcurrentAccounting races uploads (single and multipart), restores,
// copies, delete markers and deletions of versions (several requests
// deleting the same version at once) in a bucket with a quota, round after
// round, and checks after each round that the bucket size equals the sum
// of its versions' sizes and the bytes in the location, that the quota
// was never exceeded (also sampled while the round runs) and that each
// deleted version was deleted by exactly one request.
func TestConcurrentAccounting(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		env := filestest.New(t, string(d), filestest.Options{})
		s := env.Store
		const fileSize, quota = 100, 1000
		b, err := s.CreateBucket(ctx, files.BucketOptions{Quota: quota})
		if err != nil {
			t.Fatal(err)
		}
		src, err := s.CreateBucket(ctx, files.BucketOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, src.ID, "src", strings.NewReader(strings.Repeat("s", fileSize)), files.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		body := func(i int) io.Reader { return strings.NewReader(strings.Repeat(string(rune('a'+i%26)), fileSize)) }
		expected := func(err error) bool {
			return err == nil || errors.Is(err, files.ErrQuotaExceeded) || errors.Is(err, files.ErrNotFound) ||
				errors.Is(err, files.ErrConflict)
		}
		const rounds, workers, ops = 3, 6, 12
		for round := range rounds {
			// Sample the size while the round runs: never over the quota,
			// never negative.
			stop := make(chan struct{})
			var sampler sync.WaitGroup
			sampler.Add(1)
			go func() {
				defer sampler.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					bb, err := s.Bucket(ctx, b.ID)
					if err != nil {
						t.Errorf("sample: %v", err)
						return
					}
					if bb.Size < 0 || bb.Size > quota {
						t.Errorf("bucket size %d outside 0..%d during the round", bb.Size, quota)
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
			var deleted sync.Map // version id -> *atomic.Int32 successful deletions
			var committed atomic.Int32
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
					for i := range ops {
						key := fmt.Sprintf("k%d", rng.IntN(4))
						var err error
						switch op := rng.IntN(7); op {
						case 0, 1:
							_, err = s.Put(ctx, b.ID, key, body(i), files.PutOptions{Size: fileSize})
						case 2:
							var u *files.Upload
							if u, err = s.InitUpload(ctx, b.ID, key, fileSize, fileSize/2, files.UploadOptions{}); err == nil {
								for n := 1; n <= 2 && err == nil; n++ {
									_, err = s.UploadPart(ctx, b.ID, key, u.ID, n, strings.NewReader(strings.Repeat("m", fileSize/2)), fileSize/2, "")
								}
								if err == nil {
									_, err = s.CompleteUpload(ctx, b.ID, key, u.ID)
								}
								if err != nil {
									_ = s.AbortUpload(ctx, b.ID, key, u.ID)
								}
							}
						case 3:
							_, err = s.Copy(ctx, src.ID, "src", b.ID, key)
						case 4:
							_, err = s.Delete(ctx, b.ID, key)
						case 5, 6:
							page, lerr := s.List(ctx, b.ID, files.ListOptions{Versions: true, Limit: 50})
							if lerr != nil {
								t.Errorf("list: %v", lerr)
								return
							}
							if len(page.Objects) == 0 {
								continue
							}
							o := page.Objects[rng.IntN(len(page.Objects))]
							if op == 5 && !o.DeleteMarker() {
								_, err = s.Restore(ctx, b.ID, o.Key, o.VersionID)
								break
							}
							// Three requests delete the same version at once.
							c, _ := deleted.LoadOrStore(o.VersionID, new(atomic.Int32))
							var dwg sync.WaitGroup
							for range 3 {
								dwg.Add(1)
								go func() {
									defer dwg.Done()
									derr := s.DeleteVersion(ctx, b.ID, o.Key, o.VersionID)
									switch {
									case derr == nil:
										c.(*atomic.Int32).Add(1)
									case !errors.Is(derr, files.ErrNotFound):
										t.Errorf("delete version: %v", derr)
									}
								}()
							}
							dwg.Wait()
						}
						if err == nil {
							committed.Add(1)
						} else if !expected(err) {
							t.Errorf("round %d op: %v", round, err)
						}
					}
				}()
			}
			wg.Wait()
			close(stop)
			sampler.Wait()
			deleted.Range(func(k, v any) bool {
				if n := v.(*atomic.Int32).Load(); n != 1 {
					t.Errorf("version %v deleted by %d requests, want exactly 1", k, n)
				}
				return true
			})
			if t.Failed() {
				t.FailNow()
			}
			if committed.Load() == 0 {
				t.Fatalf("round %d: nothing committed", round)
			}
			checkAccounting(t, env, b.ID, src.ID)
		}
	})
}
