package fileshttp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/repokit/repokit/files/fileshttp"
	"github.com/repokit/repokit/internal/sqldb"
)

// TestDownloadReachesReadFrom: a file:// object's body reaches the
// ResponseWriter's ReadFrom as the *os.File itself (what net/http turns
// into sendfile), for full and ranged GETs, through the handler's own
// writer wrapper and through Instrument's.
func TestDownloadReachesReadFrom(t *testing.T) {
	s := newServer(t, sqldb.SQLite)
	b := s.createBucket(t, "")
	if r := s.do(t, "PUT", "/"+b+"/f.bin", []byte("0123456789abcdefghij")); r.status != 200 {
		t.Fatalf("PUT: %d", r.status)
	}
	plain := http.StripPrefix(prefix, fileshttp.New(s.env.Store))
	for name, h := range map[string]http.Handler{"handler": plain, "instrumented": fileshttp.Instrument(plain, prefix)} {
		for _, c := range []struct {
			rng    string
			status int
			n      int64
		}{{"", 200, 20}, {"bytes=5-9", 206, 5}, {"bytes=-3", 206, 3}} {
			req := httptest.NewRequest("GET", prefix+"/"+b+"/f.bin", nil)
			if c.rng != "" {
				req.Header.Set("Range", c.rng)
			}
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req)
			if w.status != c.status || w.n != c.n || !w.sawFile {
				t.Fatalf("%s, Range %q: status %d, %d bytes, file reached ReadFrom: %v", name, c.rng, w.status, w.n, w.sawFile)
			}
		}
	}
}
