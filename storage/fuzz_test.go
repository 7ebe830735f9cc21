package storage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/repokit/repokit/storage"
)

// FuzzParseChecksum: accepted checksums are exactly "md5:"+32 hex or
// "sha256:"+64 hex, and verify against themselves.
func FuzzParseChecksum(f *testing.F) {
	for _, s := range []string{"md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:" + strings.Repeat("ab", 32), "md5:", "crc32:00", "md5:XYZ", "sha256:" + strings.Repeat("A", 64), ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		algo, d, err := storage.ParseChecksum(s)
		if err != nil {
			if !errors.Is(err, storage.ErrInvalid) {
				t.Fatalf("%q: error %v does not match ErrInvalid", s, err)
			}
			return
		}
		if want := algo + ":" + hex.EncodeToString(d); !strings.EqualFold(want, s) {
			t.Fatalf("%q parsed to %s", s, want)
		}
		c := storage.Checksums{MD5: "md5:" + strings.Repeat("0", 32), SHA256: "sha256:" + strings.Repeat("0", 64)}
		if algo == "md5" {
			c.MD5 = s
		} else {
			c.SHA256 = s
		}
		if err := c.Verify(s); err != nil {
			t.Fatalf("%q does not verify against itself: %v", s, err)
		}
	})
}

// FuzzParseContentMD5: whatever is accepted is 16 bytes, and the three
// encodings of any digest are accepted.
func FuzzParseContentMD5(f *testing.F) {
	for _, s := range []string{"1B2M2Y8AsgTpgAmY7PhCfg==", "d41d8cd98f00b204e9800998ecf8427e", "0123456789abcdef", "", "===", "zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := storage.ParseContentMD5(s)
		if err != nil {
			if !errors.Is(err, storage.ErrInvalid) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if strings.TrimSpace(s) == "" {
			if d != nil {
				t.Fatal("empty input gave a digest")
			}
			return
		}
		if len(d) != md5.Size {
			t.Fatalf("%q gave %d bytes", s, len(d))
		}
		for _, enc := range []string{base64.StdEncoding.EncodeToString(d), hex.EncodeToString(d)} {
			if d2, err := storage.ParseContentMD5(enc); err != nil || !bytes.Equal(d2, d) {
				t.Fatalf("re-encoding %q: %x %v", enc, d2, err)
			}
		}
	})
}

// FuzzWriteLimits streams n bytes with a limit and an announced size into a
// mem:// location: the outcome must follow the rules (too large beats size
// mismatch; success iff within the limit and of the announced size) and the
// key exists exactly when the write succeeded.
func FuzzWriteLimits(f *testing.F) {
	f.Add(uint32(10), int64(0), int64(-1))
	f.Add(uint32(3<<20), int64(1<<20), int64(-1))
	f.Add(uint32(1<<20), int64(1<<20), int64(1<<20))
	f.Add(uint32(1<<20+1), int64(0), int64(1<<20))
	f.Add(uint32(5), int64(4), int64(5))
	f.Add(uint32(0), int64(0), int64(0))
	l, err := storage.OpenLocation(context.Background(), "fuzz", "mem://")
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close()
	f.Fuzz(func(t *testing.T, n uint32, maxSize, expected int64) {
		size := int64(n % (4 << 20))
		if expected < -1 {
			expected = -1
		}
		key := storage.NewKey()
		res, err := l.Write(context.Background(), key, &patternReader{left: size}, storage.WriteOptions{MaxSize: maxSize, ExpectedSize: expected})
		tooLarge := maxSize > 0 && (size > maxSize || expected > maxSize)
		mismatch := expected >= 0 && size != expected
		var want error // the one error the rules fix, nil if either may come
		switch {
		case maxSize > 0 && expected > maxSize:
			want = storage.ErrTooLarge // announced over the limit: refused before reading
		case tooLarge && !mismatch:
			want = storage.ErrTooLarge
		case mismatch && !tooLarge:
			want = storage.ErrSizeMismatch
		}
		switch {
		case !tooLarge && !mismatch:
			if err != nil || res.Size != size {
				t.Fatalf("size %d max %d expected %d: %+v %v", size, maxSize, expected, res, err)
			}
		case want != nil:
			if !errors.Is(err, want) {
				t.Fatalf("size %d max %d expected %d: %v, want %v", size, maxSize, expected, err, want)
			}
		default:
			if !errors.Is(err, storage.ErrSizeMismatch) && !errors.Is(err, storage.ErrTooLarge) {
				t.Fatalf("size %d max %d expected %d: %v, want a size error", size, maxSize, expected, err)
			}
		}
		ok, _ := l.Exists(context.Background(), key)
		if ok != (err == nil) {
			t.Fatalf("exists = %v after err = %v", ok, err)
		}
		if ok {
			_ = l.Delete(context.Background(), key)
		}
	})
}

// FuzzIsPartKey: keys built from (key, upload id, part number) parse back.
func FuzzIsPartKey(f *testing.F) {
	f.Add("ab/cd/x/data", "0123456789abcdef0123456789abcdef")
	f.Add("a.parts/b", "id")
	f.Fuzz(func(t *testing.T, key, id string) {
		if key == "" || id == "" || strings.Contains(id, "/") || strings.Contains(id, ".parts/") || strings.Contains(key, ".parts/") {
			return
		}
		fk, uid, ok := storage.IsPartKey(key + ".parts/" + id + "/00001")
		if !ok || fk != key || uid != id {
			t.Fatalf("IsPartKey(%q, %q) = %q %q %v", key, id, fk, uid, ok)
		}
	})
}
