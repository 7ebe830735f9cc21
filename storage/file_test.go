package storage_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/storage/storagetest"
)

// TestFileChecksumDetectsCorruption: Checksum re-reads the bytes on disk, so
// a bit flip after the write shows up as a different checksum.
func TestFileChecksumDetectsCorruption(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := storage.OpenLocation(ctx, "f", fileURL(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	key := storage.NewKey()
	data := bytes.Repeat([]byte("0123456789"), 100000)
	w, err := l.Write(ctx, key, bytes.NewReader(data), storage.WriteOptions{ExpectedSize: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.FromSlash(key))
	raw, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(raw, data) {
		t.Fatalf("bytes not at %s: %v", path, err)
	}
	raw[len(raw)/2] ^= 1
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := l.Checksum(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != w.Size {
		t.Fatalf("size changed: %d", res.Size)
	}
	if err := res.Checksums.Verify(w.Checksums.SHA256); !errors.Is(err, storage.ErrChecksumMismatch) {
		t.Fatalf("corruption not detected: %v", err)
	}
	if err := res.Checksums.Verify(w.Checksums.MD5); !errors.Is(err, storage.ErrChecksumMismatch) {
		t.Fatalf("corruption not detected by md5: %v", err)
	}
}

// TestFileTempNextToTarget: an aborted write leaves nothing in os.TempDir or
// the location, and a crash leftover (a "*.tmp" file next to the target) is
// visible to List, so garbage collection can remove it.
func TestFileTempNextToTarget(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	l, err := storage.OpenLocation(ctx, "f", fileURL(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	key := storage.NewKey()
	_, err = l.Write(ctx, key, bytes.NewReader(make([]byte, 3<<20)), storage.WriteOptions{MaxSize: 1 << 20, ExpectedSize: storage.UnknownSize})
	if !errors.Is(err, storage.ErrTooLarge) {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Fatalf("temp files in TMPDIR: %v", ents)
	}
	var files []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Fatalf("left in the location: %v", files)
	}
	// Simulated crash leftover.
	crashed := filepath.Join(dir, "ab", "cd", "x", "data.18f0c0ffee.tmp")
	if err := os.MkdirAll(filepath.Dir(crashed), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(crashed, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	found := false
	for o, err := range l.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		found = found || strings.HasSuffix(o.Key, ".tmp")
	}
	if !found {
		t.Fatal("crash leftover not listed")
	}
}

// TestWriteMemoryBounded: the heap does not grow with the object size
// (a 256 MiB streaming write, peak heap sampled during it).
func TestWriteMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 256 MiB")
	}
	ctx := context.Background()
	l, err := storage.OpenLocation(ctx, "f", fileURL(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	h := startHeapSampler()
	const size = 256 << 20
	res, err := l.Write(ctx, storage.NewKey(), &patternReader{left: size}, storage.WriteOptions{ExpectedSize: size})
	peak := h.Stop()
	if err != nil || res.Size != size {
		t.Fatal(res, err)
	}
	grow := int64(peak) - int64(base)
	t.Logf("peak heap %.1f MiB (%.1f MiB over the baseline)", float64(peak)/(1<<20), float64(grow)/(1<<20))
	if grow > 32<<20 {
		t.Fatalf("heap grew by %d MiB during a streaming write", grow>>20)
	}
}

// TestS3WriteMemoryBounded: a 128 MiB streaming write to S3 (multipart under
// the hood) keeps the heap bounded by the part buffers.
func TestS3WriteMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 128 MiB")
	}
	l := storagetest.OpenS3(t)
	ctx := context.Background()
	// Collect garbage eagerly so the samples track what the write keeps
	// alive, not when the collector happens to run (race mode paces it
	// differently).
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	h := startHeapSampler()
	const size = 128 << 20
	res, err := l.Write(ctx, storage.NewKey(), &patternReader{left: size}, storage.WriteOptions{ExpectedSize: size})
	peak := h.Stop()
	if err != nil || res.Size != size {
		t.Fatal(res, err)
	}
	grow := int64(peak) - int64(base)
	t.Logf("peak heap %.1f MiB (%.1f MiB over the baseline)", float64(peak)/(1<<20), float64(grow)/(1<<20))
	if grow > 48<<20 {
		t.Fatalf("heap grew by %d MiB during a streaming S3 write", grow>>20)
	}
}

// TestFileMetadataSidecar: by default file:// writes no .attrs sidecar (no
// stored content type); metadata= in the URL restores fileblob's sidecar.
func TestFileMetadataSidecar(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		query   string
		want    string
		sidecar bool
	}{{"", "application/octet-stream", false}, {"?metadata=", "text/csv", true}} {
		dir := t.TempDir()
		l, err := storage.OpenLocation(ctx, "f", fileURL(dir)+c.query)
		if err != nil {
			t.Fatal(err)
		}
		key := storage.NewKey()
		if _, err := l.Write(ctx, key, strings.NewReader("a,b\n"), storage.WriteOptions{ExpectedSize: 4, ContentType: "text/csv"}); err != nil {
			t.Fatal(err)
		}
		info, err := l.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		_, serr := os.Stat(filepath.Join(dir, filepath.FromSlash(key)) + ".attrs")
		if info.ContentType != c.want || (serr == nil) != c.sidecar {
			t.Fatalf("%q: content type %q, sidecar %v; want %q, %v", c.query, info.ContentType, serr == nil, c.want, c.sidecar)
		}
		l.Close()
	}
}
