package webdav_test

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/storage/webdav/webdavtest"
)

// benchSize is the object size: 256 MiB, or REPOKIT_BENCH_STORAGE_MB MiB.
func benchSize() int64 {
	if v, err := strconv.Atoi(os.Getenv("REPOKIT_BENCH_STORAGE_MB")); err == nil && v > 0 {
		return int64(v) << 20
	}
	return 256 << 20
}

// benchFile writes the object to upload once, in a temp dir.
func benchFile(b *testing.B, size int64) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "bench.bin")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	chunk := data(1 << 20)
	for n := int64(0); n < size; n += int64(len(chunk)) {
		if _, err := f.Write(chunk[:min(int64(len(chunk)), size-n)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

// heapPeak samples the live heap every few milliseconds while running.
type heapPeak struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func startHeapPeak() *heapPeak {
	h := &heapPeak{stop: make(chan struct{})}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			h.peak = max(h.peak, s[0].Value.Uint64())
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapPeak) report(b *testing.B) {
	close(h.stop)
	h.wg.Wait()
	b.ReportMetric(float64(h.peak)/(1<<20), "peak-heap-MiB")
}

// cpuTime is the CPU time (user+system) used so far by this process and by
// its waited-for children (curl): under load, wall time depends on the share
// of the CPUs each side gets, CPU time on the work done.
func cpuTime() time.Duration {
	var self, kids syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}

// meter starts measuring; the function it returns reports the CPU time per
// operation (this process, which includes the in-process server, plus curl)
// and the process's peak RSS so far.
func meter(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MiB") // Linux: KiB
	}
}

// BenchmarkWebDAV: a 256 MiB PUT and GET on each server, curl doing the same
// transfer of the same file to the same server (baseline) next to
// storage.Location.Write / NewReader (repokit, which also hashes md5+sha256
// while uploading and moves the upload into place), and for PUT the blob
// driver alone (driver: temp PUT + MOVE, no hashing, the same work as curl),
// and curl with md5sum and sha256sum of the file running alongside
// (baseline-sums: the transfer plus the hashing repokit does), and
// repokit-md5 (Write computing the md5 only, WriteOptions.Checksums). Peak live
// heap and RSS show that memory stays constant; cpu-ms/op (this process,
// which holds the x/net server, plus curl and the hashers) shows the work
// done whatever the machine's load: on 2 shared cores against the
// in-process server the wall-time ratio follows it.
func BenchmarkWebDAV(b *testing.B) {
	if _, err := exec.LookPath("curl"); err != nil {
		b.Skip("curl not installed")
	}
	size := benchSize()
	src := benchFile(b, size)
	servers := []struct {
		name string
		url  func(b *testing.B) string
	}{
		{"xnet", func(b *testing.B) string { u, _ := webdavtest.NewXNetServer(b, nil); return u }},
		{"apache", func(b *testing.B) string { return os.Getenv(webdavtest.ApacheEnv) }},
		{"xrootd", func(b *testing.B) string { return os.Getenv(webdavtest.XRootDEnv) }},
	}
	for _, srv := range servers {
		b.Run(srv.name, func(b *testing.B) {
			raw := srv.url(b)
			if raw == "" {
				b.Skip("server not configured")
			}
			ctx := context.Background()
			l := webdavtest.OpenFresh(b, "bench", raw)
			u, _ := url.Parse(l.URL())
			httpBase, _ := webdavtest.HTTPURL(u)
			// One object to read, written once.
			getKey := "bench/get.bin"
			f, _ := os.Open(src)
			if _, err := l.Write(ctx, getKey, f, storage.WriteOptions{ExpectedSize: size}); err != nil {
				b.Fatal(err)
			}
			f.Close()
			curl := func(b *testing.B, args ...string) {
				b.Helper()
				out, err := exec.Command("curl", append([]string{"-sS", "-f"}, args...)...).CombinedOutput()
				if err != nil {
					b.Fatalf("curl %v: %v %s", args, err, out)
				}
			}
			b.Run("put", func(b *testing.B) {
				b.Run("baseline", func(b *testing.B) {
					b.SetBytes(size)
					done := meter(b)
					for i := 0; b.Loop(); i++ {
						key := fmt.Sprintf("curl-%d.bin", i)
						curl(b, "-T", src, httpBase+key)
						b.StopTimer()
						if err := l.Delete(ctx, key); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					done()
				})
				// curl plus md5sum and sha256sum of the same file at the same
				// time: the upload with the hashing repokit does while
				// uploading (the same work, in three processes).
				b.Run("baseline-sums", func(b *testing.B) {
					if _, err := exec.LookPath("sha256sum"); err != nil {
						b.Skip("coreutils not installed")
					}
					b.SetBytes(size)
					done := meter(b)
					for i := 0; b.Loop(); i++ {
						key := fmt.Sprintf("curls-%d.bin", i)
						script := `curl -sS -f -T "$1" "$2" & md5sum "$1" >/dev/null & sha256sum "$1" >/dev/null & for p in $(jobs -p); do wait $p || exit 1; done`
						if out, err := exec.Command("bash", "-c", script, "bash", src, httpBase+key).CombinedOutput(); err != nil {
							b.Fatalf("curl+sums: %v %s", err, out)
						}
						b.StopTimer()
						if err := l.Delete(ctx, key); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					done()
				})
				// The driver alone (no md5/sha256): the same work as curl.
				b.Run("driver", func(b *testing.B) {
					b.SetBytes(size)
					done := meter(b)
					b.ReportAllocs()
					h := startHeapPeak()
					for i := 0; b.Loop(); i++ {
						key := fmt.Sprintf("drv-%d.bin", i)
						f, err := os.Open(src)
						if err != nil {
							b.Fatal(err)
						}
						w, err := l.Bucket().NewWriter(storage.ContextWithExpectedSize(ctx, size), key, &blob.WriterOptions{ContentType: "application/octet-stream"})
						if err != nil {
							b.Fatal(err)
						}
						if _, err := io.Copy(w, f); err != nil {
							b.Fatal(err)
						}
						if err := w.Close(); err != nil {
							b.Fatal(err)
						}
						f.Close()
						b.StopTimer()
						if err := l.Delete(ctx, key); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					done()
					h.report(b)
				})
				put := func(b *testing.B, sums storage.Algorithms) {
					b.SetBytes(size)
					done := meter(b)
					b.ReportAllocs()
					h := startHeapPeak()
					for i := 0; b.Loop(); i++ {
						key := fmt.Sprintf("put-%d.bin", i)
						f, err := os.Open(src)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := l.Write(ctx, key, f, storage.WriteOptions{ExpectedSize: size, Checksums: sums}); err != nil {
							b.Fatal(err)
						}
						f.Close()
						b.StopTimer()
						if err := l.Delete(ctx, key); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					done()
					h.report(b)
				}
				// What files does: md5 and sha256 (the default).
				b.Run("repokit", func(b *testing.B) { put(b, 0) })
				// A caller that keeps only the md5 (WriteOptions.Checksums).
				b.Run("repokit-md5", func(b *testing.B) { put(b, storage.AlgoMD5) })
			})
			b.Run("get", func(b *testing.B) {
				b.Run("baseline", func(b *testing.B) {
					b.SetBytes(size)
					done := meter(b)
					for b.Loop() {
						curl(b, "-o", "/dev/null", httpBase+getKey)
					}
					done()
				})
				b.Run("repokit", func(b *testing.B) {
					b.SetBytes(size)
					done := meter(b)
					b.ReportAllocs()
					h := startHeapPeak()
					for b.Loop() {
						r, err := l.NewReader(ctx, getKey)
						if err != nil {
							b.Fatal(err)
						}
						n, err := io.Copy(io.Discard, r)
						r.Close()
						if err != nil || n != size {
							b.Fatalf("read %d of %d: %v", n, size, err)
						}
					}
					done()
					h.report(b)
				})
			})
		})
	}
}
