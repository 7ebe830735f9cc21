package fileshttp_test

import (
	"net/http"
	"net/url"
	"strings"
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

// FuzzKeyHTTP uploads under arbitrary keys through the handler: the answer
// is 200 (and the object reads back under the same key) or 400, never a
// 5xx or a panic.
func FuzzKeyHTTP(f *testing.F) {
	for _, seed := range []string{"a", "a/b.txt", "a/../b", "日本/é", "a?b#c", "a%2Fb", "a\x00b", " ", "a/", "a//b", ".", "\xff"} {
		f.Add(seed)
	}
	s := newServer(f, sqldb.SQLite)
	b := s.createBucket(f, "")
	f.Fuzz(func(t *testing.T, key string) {
		segs := strings.Split(key, "/")
		for i := range segs {
			segs[i] = url.PathEscape(segs[i])
		}
		p := "/" + b + "/" + strings.Join(segs, "/")
		req, err := http.NewRequest("PUT", s.URL+prefix+p, strings.NewReader("body"))
		if err != nil {
			t.Skip()
		}
		res, err := s.client.Do(req)
		if err != nil {
			t.Skip()
		}
		res.Body.Close()
		switch res.StatusCode {
		case 200:
			if r := s.do(t, "GET", p, nil); r.status != 200 || string(r.body) != "body" {
				t.Fatalf("key %q stored but GET gives %d %q", key, r.status, r.body)
			}
		case 400:
		default:
			t.Fatalf("key %q: status %d", key, res.StatusCode)
		}
	})
}
