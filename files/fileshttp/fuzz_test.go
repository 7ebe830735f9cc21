package fileshttp_test

import (
	"net/http"
	"testing"

	"github.com/repokit/repokit/internal/sqldb"
)

// FuzzRange sends arbitrary Range (and If-Range) headers through the
// handler: the answer is always 200, 206 or 416, never a 5xx or a panic.
func FuzzRange(f *testing.F) {
	for _, seed := range []string{"bytes=0-4", "bytes=-5", "bytes=5-", "bytes=0-0,2-3", "bytes=100-200", "bytes=3-1",
		"bytes=", "bytes=--1", "bytes=0-18446744073709551616", "items=0-1", "bytes=0-1,0-1,0-1", "bytes= 1 - 2 ", ""} {
		f.Add(seed, "")
	}
	f.Add("bytes=0-4", `"md5:x"`)
	f.Add("bytes=0-4", "Wed, 21 Oct 2015 07:28:00 GMT")
	s := newServer(f, sqldb.SQLite)
	b := s.createBucket(f, "")
	if r := s.do(f, "PUT", "/"+b+"/f.txt", []byte("0123456789abcdefghij")); r.status != 200 {
		f.Fatalf("PUT: %d", r.status)
	}
	f.Fuzz(func(t *testing.T, rng, ifRange string) {
		req, err := http.NewRequest("GET", s.URL+prefix+"/"+b+"/f.txt", nil)
		if err != nil {
			t.Skip()
		}
		req.Header["Range"] = []string{rng}
		if ifRange != "" {
			req.Header["If-Range"] = []string{ifRange}
		}
		res, err := s.client.Do(req)
		if err != nil {
			t.Skip() // header the client refuses to send
		}
		res.Body.Close()
		switch res.StatusCode {
		case 200, 206, 416:
		default:
			t.Fatalf("Range %q If-Range %q: status %d", rng, ifRange, res.StatusCode)
		}
	})
}
