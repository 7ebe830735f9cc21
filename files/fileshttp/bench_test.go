package fileshttp_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/files/fileshttp"
	"github.com/repokit/repokit/internal/sqldb"
)

// envSize reads a byte size from an environment variable (benchmarks:
// REPOKIT_BENCH_PUT_SIZE, REPOKIT_BENCH_GET_SIZE, REPOKIT_BENCH_RANGE_SIZE,
// REPOKIT_BENCH_HEAP_SIZE), e.g. "268435456" or "256MiB".
func envSize(name string, def int64) int64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	mult := int64(1)
	for suf, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if len(v) > len(suf) && v[len(v)-len(suf):] == suf {
			v, mult = v[:len(v)-len(suf)], m
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		panic(fmt.Sprintf("%s=%q: want a positive size", name, os.Getenv(name)))
	}
	return n * mult
}

// patternReader yields n pseudo-random bytes from a reused 1 MiB block, so
// sources of any size cost no memory.
type patternReader struct {
	block []byte
	n     int64
	off   int
}

var (
	blockOnce sync.Once
	block     []byte
)

func newPattern(n int64) *patternReader {
	blockOnce.Do(func() {
		block = make([]byte, 1<<20)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range block {
			block[i] = byte(r.Uint32())
		}
	})
	return &patternReader{block: block, n: n}
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.n == 0 {
		return 0, io.EOF
	}
	k := copy(b[:min(int64(len(b)), p.n)], p.block[p.off:])
	p.off = (p.off + k) % len(p.block)
	p.n -= int64(k)
	return k, nil
}

func putOnce(b *testing.B, s *testServer, bucket, key string, size int64) {
	req, err := http.NewRequest("PUT", s.URL+prefix+"/"+bucket+"/"+key, newPattern(size))
	if err != nil {
		b.Fatal(err)
	}
	req.ContentLength = size
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("PUT: %d %s", res.StatusCode, body)
	}
}

// cleanup removes every version and its bytes (outside the timer).
func cleanup(b *testing.B, s *testServer, bucket string) {
	ctx := context.Background()
	page, err := s.env.Store.List(ctx, bucket, files.ListOptions{Versions: true})
	if err != nil {
		b.Fatal(err)
	}
	for _, o := range page.Objects {
		if err := s.env.Store.DeleteVersion(ctx, bucket, o.Key, o.VersionID); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.env.Store.CollectGarbage(ctx, files.GCOptions{SkipBytes: true}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPut: a streamed upload through the handler over loopback HTTP to
// a file:// location (md5+sha256, SQLite metadata) against io.Copy of the
// same bytes into a file through md5 and sha256. Goal: repokit ≥ 0.8×.
func BenchmarkPut(b *testing.B) {
	size := envSize("REPOKIT_BENCH_PUT_SIZE", 256<<20)
	b.Run("baseline", func(b *testing.B) {
		dir := b.TempDir()
		b.SetBytes(size)
		for i := 0; b.Loop(); i++ {
			f, err := os.Create(filepath.Join(dir, "data"))
			if err != nil {
				b.Fatal(err)
			}
			m, s := md5.New(), sha256.New()
			if _, err := io.Copy(io.MultiWriter(f, m, s), newPattern(size)); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			_ = m.Sum(nil)
			_ = s.Sum(nil)
		}
	})
	b.Run("repokit", func(b *testing.B) {
		s := newServer(b, sqldb.SQLite)
		bucket := s.createBucket(b, "")
		b.SetBytes(size)
		for b.Loop() {
			putOnce(b, s, bucket, "data.bin", size)
			b.StopTimer()
			cleanup(b, s, bucket)
			b.StartTimer()
		}
	})
}

// rangeFixture stores the file the ranged-GET benchmarks read (64 MiB, or
// REPOKIT_BENCH_GET_SIZE) in a new bucket and returns the server, the
// bucket, the path of the object's bytes on disk, the file's size and the
// range length (1 MiB, or REPOKIT_BENCH_RANGE_SIZE).
func rangeFixture(b *testing.B) (s *testServer, bucket, path string, size, rangeLen int64) {
	size = envSize("REPOKIT_BENCH_GET_SIZE", 64<<20)
	rangeLen = envSize("REPOKIT_BENCH_RANGE_SIZE", 1<<20)
	s = newServer(b, sqldb.SQLite)
	bucket = s.createBucket(b, "")
	putOnce(b, s, bucket, "data.bin", size)
	o, err := s.env.Store.Object(context.Background(), bucket, "data.bin", "")
	if err != nil {
		b.Fatal(err)
	}
	return s, bucket, filepath.Join(s.env.Dirs["local"], filepath.FromSlash(o.File.StorageKey)), size, rangeLen
}

// BenchmarkGetRange: GET with a Range header (1 MiB at a random offset of
// a 64 MiB file) through the handler against http.ServeFile of the same
// file on disk, both over loopback HTTP with the client in this process.
// Goal: repokit ≤ 1.1× the baseline's time. cpu-ns/op (client + server
// CPU per request) compares them steadily on a loaded machine, where wall
// time swings with other work; user-ns/op and sys-ns/op split it between
// the process's own work and the kernel's (copying, TCP, sendfile).
func BenchmarkGetRange(b *testing.B) {
	s, bucket, path, size, rangeLen := rangeFixture(b)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, path) }))
	defer plain.Close()
	run := func(b *testing.B, url string) {
		rng := rand.New(rand.NewPCG(3, 4))
		buf := make([]byte, 64<<10)
		b.SetBytes(rangeLen)
		user0, sys0 := processCPU()
		defer func() {
			user, sys := processCPU()
			user, sys = user-user0, sys-sys0
			b.ReportMetric(float64((user+sys).Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(user.Nanoseconds())/float64(b.N), "user-ns/op")
			b.ReportMetric(float64(sys.Nanoseconds())/float64(b.N), "sys-ns/op")
		}()
		for b.Loop() {
			off := rng.Int64N(size - rangeLen)
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+rangeLen-1))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.CopyBuffer(io.Discard, res.Body, buf)
			res.Body.Close()
			if res.StatusCode != 206 || n != rangeLen {
				b.Fatalf("status %d, %d bytes", res.StatusCode, n)
			}
		}
	}
	b.Run("baseline", func(b *testing.B) { run(b, plain.URL) })
	b.Run("repokit", func(b *testing.B) { run(b, s.URL+prefix+"/"+bucket+"/data.bin") })
}

// BenchmarkPutPeakHeap uploads REPOKIT_BENCH_HEAP_SIZE (default 1 GiB)
// through the handler and reports the peak heap in use (sampled every 5 ms)
// as peak-heap-MiB. Goal: constant, under 64 MiB.
func BenchmarkPutPeakHeap(b *testing.B) {
	size := envSize("REPOKIT_BENCH_HEAP_SIZE", 1<<30)
	s := newServer(b, sqldb.SQLite)
	bucket := s.createBucket(b, "")
	var peak atomic.Uint64
	b.SetBytes(size)
	for b.Loop() {
		runtime.GC()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ms runtime.MemStats
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		putOnce(b, s, bucket, "big.bin", size)
		close(stop)
		wg.Wait()
		b.StopTimer()
		cleanup(b, s, bucket)
		b.StartTimer()
	}
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

// discardWriter is a ResponseWriter that discards the body; ReadFrom skips
// a file's bytes (as sendfile would copy them in the kernel) so that only
// the handler's own work is measured.
type discardWriter struct {
	h       http.Header
	status  int
	n       int64
	sawFile bool // ReadFrom got an *os.File (in ServeContent's LimitedReader)
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += int64(len(p))
	return len(p), nil
}
func (w *discardWriter) ReadFrom(r io.Reader) (int64, error) {
	w.WriteHeader(http.StatusOK)
	if lr, ok := r.(*io.LimitedReader); ok {
		if f, ok := lr.R.(*os.File); ok {
			n := lr.N
			if _, err := f.Seek(n, io.SeekCurrent); err != nil {
				return 0, err
			}
			lr.N = 0
			w.n += n
			w.sawFile = true
			return n, nil
		}
	}
	n, err := io.Copy(struct{ io.Writer }{w}, r) // not a file: count it through user space
	return n, err
}

// BenchmarkGetRangeHandler is BenchmarkGetRange without the network: the
// handler (mounted with http.StripPrefix) and http.ServeFile called
// directly with a writer that skips the file's bytes instead of sending
// them, so it measures the per-request work of each (routing, metadata
// lookup, headers, opening the file) apart from the kernel's copying. A
// body that does not arrive as an *os.File fails it.
func BenchmarkGetRangeHandler(b *testing.B) {
	s, bucket, path, size, rangeLen := rangeFixture(b)
	run := func(b *testing.B, h http.Handler, target string) {
		rng := rand.New(rand.NewPCG(3, 4))
		user0, sys0 := processCPU()
		defer func() {
			user, sys := processCPU()
			b.ReportMetric(float64((user+sys-user0-sys0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}()
		for b.Loop() {
			off := rng.Int64N(size - rangeLen)
			req := httptest.NewRequest("GET", target, nil)
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+rangeLen-1))
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req)
			if w.status != 206 || w.n != rangeLen {
				b.Fatalf("status %d, %d bytes (want 206, %d bytes through ReadFrom)", w.status, w.n, rangeLen)
			}
		}
	}
	b.Run("baseline", func(b *testing.B) {
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, path) }), "/data.bin")
	})
	b.Run("repokit", func(b *testing.B) {
		run(b, http.StripPrefix(prefix, fileshttp.New(s.env.Store)), prefix+"/"+bucket+"/data.bin")
	})
}
