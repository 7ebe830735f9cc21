package storage_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/repokit/repokit/storage"
)

// benchSize is the object size of BenchmarkWrite: 256 MiB, or
// REPOKIT_BENCH_STORAGE_MB MiB for quicker runs.
func benchSize() int64 {
	if v, err := strconv.Atoi(os.Getenv("REPOKIT_BENCH_STORAGE_MB")); err == nil && v > 0 {
		return int64(v) << 20
	}
	return 256 << 20
}

// patternReader yields n bytes of a repeating, non-trivial pattern without
// holding them in memory (like a client upload).
type patternReader struct{ left int64 }

var pattern = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}()

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(b) && p.left > 0 {
		c := copy(b[n:min(len(b), n+int(p.left))], pattern)
		n += c
		p.left -= int64(c)
	}
	return n, nil
}

// BenchmarkWrite compares a plain io.Copy into a file through md5+sha256
// (baseline) with Location.Write to a file:// location (repokit), which adds
// the size limit, the atomic rename and the sidecar attributes.
func BenchmarkWrite(b *testing.B) {
	size := benchSize()
	dir := b.TempDir()
	b.Run("baseline", func(b *testing.B) {
		b.SetBytes(size)
		for i := range b.N {
			settle(b)
			f, err := os.Create(filepath.Join(dir, "baseline-"+strconv.Itoa(i)))
			if err != nil {
				b.Fatal(err)
			}
			m, s := md5.New(), sha256.New()
			if _, err := io.Copy(io.MultiWriter(f, m, s), &patternReader{left: size}); err != nil {
				b.Fatal(err)
			}
			_, _ = m.Sum(nil), s.Sum(nil)
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			os.Remove(f.Name())
			b.StartTimer()
		}
	})
	b.Run("repokit", func(b *testing.B) {
		l, err := storage.OpenLocation(context.Background(), "bench", (&url.URL{Scheme: "file", Path: dir}).String())
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		b.SetBytes(size)
		for range b.N {
			settle(b)
			key := storage.NewKey()
			if _, err := l.Write(context.Background(), key, &patternReader{left: size}, storage.WriteOptions{MaxSize: size, ExpectedSize: size}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			_ = l.Delete(context.Background(), key)
			b.StartTimer()
		}
	})
}

// settle flushes dirty pages outside the timer, so each iteration starts
// from the same page-cache state whichever sub-benchmark ran before.
func settle(b *testing.B) {
	b.StopTimer()
	syscall.Sync()
	b.StartTimer()
}

// heapSampler records the peak HeapAlloc while running.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > h.peak.Load() {
				h.peak.Store(ms.HeapAlloc)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) Stop() uint64 { close(h.stop); h.wg.Wait(); return h.peak.Load() }

// BenchmarkWritePeakHeap writes 1 GiB (REPOKIT_BENCH_STORAGE_MB scales it
// ×4) to a file:// location and reports the peak heap as peak-heap-MiB.
func BenchmarkWritePeakHeap(b *testing.B) {
	size := 4 * benchSize()
	l, err := storage.OpenLocation(context.Background(), "bench", (&url.URL{Scheme: "file", Path: b.TempDir()}).String())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.SetBytes(size)
	var peak uint64
	for range b.N {
		runtime.GC()
		h := startHeapSampler()
		key := storage.NewKey()
		if _, err := l.Write(context.Background(), key, &patternReader{left: size}, storage.WriteOptions{ExpectedSize: storage.UnknownSize}); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, h.Stop())
		_ = l.Delete(context.Background(), key)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
