package pagecache

import (
	"bytes"
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestEntryRoundTrip(t *testing.T) {
	e := entry{
		status:  203,
		header:  http.Header{"Content-Type": {"text/html"}, "X-Multi": {"a", "b", ""}, "Empty": {}},
		body:    []byte("<p>hello</p>\x00\xff"),
		stored:  time.UnixMilli(1_700_000_000_123),
		started: time.Unix(0, 1_700_000_000_123_456_789),
		tags:    []string{"record:1", "index:records"},
	}
	got, ok := decodeEntry(e.encode())
	if !ok {
		t.Fatal("decode failed")
	}
	if got.status != e.status || !got.stored.Equal(e.stored) || !bytes.Equal(got.body, e.body) {
		t.Fatalf("got %+v", got)
	}
	if !got.started.Equal(e.started) || !reflect.DeepEqual(got.tags, e.tags) {
		t.Fatalf("started %v tags %v", got.started, got.tags)
	}
	if !reflect.DeepEqual(got.header["X-Multi"], e.header["X-Multi"]) || got.header.Get("Content-Type") != "text/html" {
		t.Fatalf("headers %v", got.header)
	}
	// Every truncation is rejected or decodes to a shorter body, never panics.
	enc := e.encode()
	for i := range enc {
		if d, ok := decodeEntry(enc[:i]); ok && len(d.body) >= len(e.body) {
			t.Fatalf("truncated to %d bytes decoded a full body", i)
		}
	}
	if _, ok := decodeEntry(append([]byte{entryVersion + 1}, enc[1:]...)); ok {
		t.Fatal("unknown version accepted")
	}
}

// FuzzDecodeEntry: arbitrary bytes from the cache (corrupt, foreign or
// truncated entries) never panic, and anything accepted re-encodes stably.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(entry{status: 200, header: http.Header{"A": {"b"}}, body: []byte("x"), stored: time.UnixMilli(1)}.encode())
	f.Add([]byte{})
	f.Add([]byte{1, 0, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})
	f.Add([]byte{1, 0, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 'A', 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := decodeEntry(b)
		if !ok {
			return
		}
		again, ok := decodeEntry(e.encode())
		if !ok || again.status != e.status || !bytes.Equal(again.body, e.body) || len(again.header) != len(e.header) {
			t.Fatalf("re-encode changed the entry: %+v vs %+v", e, again)
		}
	})
}
