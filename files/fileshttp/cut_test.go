package fileshttp_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

// TestHTTPCutUpload: a client that sends the headers and half the body,
// then closes the connection, leaves no visible object; the only bytes it
// can leave are removed by GC. Both with Content-Length and chunked.
func TestHTTPCutUpload(t *testing.T) {
	s := newServer(t, sqldb.SQLite)
	b := s.createBucket(t, "")
	addr := strings.TrimPrefix(s.URL, "http://")
	for _, chunked := range []bool{false, true} {
		key := fmt.Sprintf("cut-%v.bin", chunked)
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		const size = 4 << 20
		hdr := fmt.Sprintf("PUT %s/%s/%s HTTP/1.1\r\nHost: %s\r\n", prefix, b, key, addr)
		if chunked {
			hdr += "Transfer-Encoding: chunked\r\n\r\n"
		} else {
			hdr += fmt.Sprintf("Content-Length: %d\r\n\r\n", size)
		}
		if _, err := conn.Write([]byte(hdr)); err != nil {
			t.Fatal(err)
		}
		half := bytes.Repeat([]byte("x"), size/2)
		if chunked {
			fmt.Fprintf(conn, "%x\r\n", len(half))
		}
		if _, err := conn.Write(half); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		// Wait until the server has given up on the request.
		timeout := time.After(10 * time.Second)
	wait:
		for {
			select {
			case r := <-s.finished:
				if r.Method == "PUT" && strings.HasSuffix(r.URL.Path, key) {
					break wait
				}
			case <-timeout:
				t.Fatal("server never finished the cut request")
			}
		}
		if r := s.do(t, "GET", "/"+b+"/"+key, nil); r.status != 404 {
			t.Fatalf("cut upload visible: %d", r.status)
		}
		t.Logf("keys left by the cut upload before GC: %v", s.env.Keys(t, "local"))
		time.Sleep(20 * time.Millisecond)
		if _, err := s.env.Store.CollectGarbage(context.Background(), files.GCOptions{BytesGrace: 10 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		if keys := s.env.Keys(t, "local"); len(keys) != 0 {
			t.Fatalf("bytes left after GC: %v", keys)
		}
		if bk, _ := s.env.Store.Bucket(context.Background(), b); bk.Size != 0 {
			t.Fatalf("bucket size %d", bk.Size)
		}
	}
	// The server still works.
	if r := s.do(t, "PUT", "/"+b+"/ok", []byte("fine")); r.status != 200 {
		t.Fatalf("PUT after cuts: %d", r.status)
	}
}

// TestHTTPConcurrentQuota: 20 concurrent PUTs of 1000 bytes into a bucket
// with a quota of 10000: 10 succeed, 10 get 413, never over quota.
func TestHTTPConcurrentQuota(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		s := newServer(t, d)
		b := s.createBucket(t, `{"quota": 10000}`)
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("PUT", fmt.Sprintf("%s%s/%s/f%d", s.URL, prefix, b, i), bytes.NewReader(make([]byte, 1000)))
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				mu.Lock()
				codes[res.StatusCode]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		bk, _ := s.env.Store.Bucket(context.Background(), b)
		if codes[200] != 10 || codes[413] != 10 || bk.Size != 10000 {
			t.Fatalf("codes %v size %d", codes, bk.Size)
		}
	})
}
