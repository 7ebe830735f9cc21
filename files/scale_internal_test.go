package files

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

// bulkHead is one head to insert with bulkHeads: fileID "" creates a new
// file instance of size bytes.
type bulkHead struct {
	key    string
	fileID string
	size   int64
}

// bulkHeads inserts heads straight into the tables in multi-row
// statements (fast setup of big buckets; bytes are not written) and adds
// their sizes to the bucket. It returns the file ids.
func bulkHeads(t testing.TB, s *Store, bucket string, heads []bulkHead) []string {
	t.Helper()
	ctx := context.Background()
	now := s.ts(s.now())
	ids := make([]string, len(heads))
	var total int64
	for start := 0; start < len(heads); start += 500 {
		batch := heads[start:min(start+500, len(heads))]
		var fq, oq strings.Builder
		var fargs, oargs []any
		fq.WriteString("INSERT INTO files_instances (id, location, storage_class, storage_key, size, md5, sha256, status, created, updated) VALUES ")
		oq.WriteString("INSERT INTO files_objects (version_id, bucket_id, object_key, file_id, mimetype, is_head, created, updated) VALUES ")
		nf := 0
		for i, h := range batch {
			id := h.fileID
			if id == "" {
				id = uuid.NewString()
				if nf > 0 {
					fq.WriteString(", ")
				}
				nf++
				fq.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
				fargs = append(fargs, id, "default", "standard", s.storageKeyFor(id), h.size, "md5:x", "sha256:y", statusReady, now, now)
			}
			ids[start+i] = id
			total += h.size
			if i > 0 {
				oq.WriteString(", ")
			}
			oq.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
			oargs = append(oargs, uuid.NewString(), bucket, h.key, id, "application/octet-stream", true, now, now)
		}
		err := sqldb.InTx(ctx, s.db, nil, func(tx *sqlx.Tx) error {
			if nf > 0 {
				if _, err := tx.ExecContext(ctx, tx.Rebind(fq.String()), fargs...); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, tx.Rebind(oq.String()), oargs...)
			return err
		})
		if err != nil {
			t.Fatalf("bulk insert: %v", err)
		}
	}
	if _, err := s.db.ExecContext(ctx, s.db.Rebind("UPDATE files_buckets SET size = size + ? WHERE id = ?"), total, bucket); err != nil {
		t.Fatal(err)
	}
	return ids
}

// allHeads pages through a bucket's visible heads.
func allHeads(t testing.TB, s *Store, bucket string) []*Object {
	t.Helper()
	var out []*Object
	c := &headCursor{s: s, bucket: bucket}
	for {
		o, err := c.next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if o == nil {
			return out
		}
		out = append(out, o)
	}
}

// TestSyncAcrossPages: Sync merges listings several pages long: keys only
// in the source are copied, keys with another file get a new version,
// keys with the same file are left alone (no new version) and extra keys
// get a delete marker; sizes add up.
func TestSyncAcrossPages(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		s := newModelStore(t, d)
		s.cfg.syncPage = 16 // many pages from few keys
		src, _ := s.CreateBucket(ctx, BucketOptions{})
		dst, _ := s.CreateBucket(ctx, BucketOptions{})
		const n = 5*16 + 7
		var sh []bulkHead
		for i := range n {
			sh = append(sh, bulkHead{key: fmt.Sprintf("k%05d", i), size: 10})
		}
		srcFiles := bulkHeads(t, s, src.ID, sh)
		var dh []bulkHead
		same, other := 0, 0
		for i := 0; i < n; i += 2 {
			if i%4 == 0 {
				dh = append(dh, bulkHead{key: sh[i].key, fileID: srcFiles[i], size: 10})
				same++
			} else {
				dh = append(dh, bulkHead{key: sh[i].key, size: 7})
				other++
			}
			dh = append(dh, bulkHead{key: sh[i].key + "-extra", size: 3}) // between source keys
		}
		bulkHeads(t, s, dst.ID, dh)
		before, _ := s.Bucket(ctx, dst.ID)
		if err := s.Sync(ctx, src.ID, dst.ID, true); err != nil {
			t.Fatal(err)
		}
		heads := allHeads(t, s, dst.ID)
		if len(heads) != n {
			t.Fatalf("%d heads after sync, want %d", len(heads), n)
		}
		for i, o := range heads {
			if o.Key != sh[i].key || o.File.ID != srcFiles[i] {
				t.Fatalf("head %d: %s file %s, want %s file %s", i, o.Key, o.File.ID, sh[i].key, srcFiles[i])
			}
		}
		var versions int
		if err := s.db.Get(&versions, s.db.Rebind("SELECT COUNT(*) FROM files_objects WHERE bucket_id = ?"), dst.ID); err != nil {
			t.Fatal(err)
		}
		extras := n / 2
		if n%2 == 1 {
			extras++
		}
		copied := n - same
		if want := len(dh) + copied + extras; versions != want {
			t.Fatalf("%d versions in dst, want %d (no new version for the %d unchanged keys)", versions, want, same)
		}
		after, _ := s.Bucket(ctx, dst.ID)
		if after.Size != before.Size+int64(copied)*10 {
			t.Fatalf("size %d, want %d", after.Size, before.Size+int64(copied)*10)
		}
		_ = other
	})
}

// peakHeap runs fn while sampling the live heap every millisecond (with
// the collector made eager, so the heap tracks what is live) and returns
// the peak heap above what was in use before, in bytes.
func peakHeap(fn func()) uint64 {
	old := debug.SetGCPercent(5)
	defer debug.SetGCPercent(old)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
				peak.Store(ms.HeapAlloc - base)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}

func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

// BenchmarkSnapshotHeap snapshots a bucket of N heads (sub-benchmarks
// objects=N; REPOKIT_BENCH_SNAPSHOT_OBJECTS adds a size) on SQLite and
// reports the peak heap above the start as peak-heap-MiB: constant in N
// (the listings are merged a page at a time).
func BenchmarkSnapshotHeap(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if v := envInt("REPOKIT_BENCH_SNAPSHOT_OBJECTS"); v > 0 {
		sizes = append(sizes, v)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			ctx := context.Background()
			bb := newModelStore(b, sqldb.SQLite)
			src, _ := bb.CreateBucket(ctx, BucketOptions{})
			heads := make([]bulkHead, n)
			for i := range heads {
				heads[i] = bulkHead{key: fmt.Sprintf("dir%03d/file%08d.dat", i%100, i), size: 1}
			}
			bulkHeads(b, bb, src.ID, heads)
			var peak uint64
			for b.Loop() {
				p := peakHeap(func() {
					snap, err := bb.Snapshot(ctx, src.ID, true)
					if err != nil || snap.Size != int64(n) {
						b.Fatalf("snapshot: %v", err)
					}
				})
				peak = max(peak, p)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/object")
		})
	}
}
