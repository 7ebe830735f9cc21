package search_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
)

// TestDefaultDumper checks the document DefaultDumper makes: the record's
// keys plus id, revision, created and updated (overwriting keys of those
// names, whatever the record looks like), as compact JSON.
func TestDefaultDumper(t *testing.T) {
	id := uuid.MustParse("01900000-0000-7000-8000-000000000001")
	created := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.FixedZone("x", 3600))
	updated := created.Add(time.Hour)
	added := map[string]any{"id": id.String(), "revision": float64(3),
		"created": "2026-01-02T02:04:05.000006Z", "updated": "2026-01-02T03:04:05.000006Z"}
	for _, c := range []struct {
		name, in string
		want     map[string]any // besides the added keys
	}{
		{"plain", `{"title": "a", "n": [1, {"id": "nested"}], "s": "x\u00e9\"}"}`, map[string]any{"title": "a", "n": []any{float64(1), map[string]any{"id": "nested"}}, "s": "xé\"}"}},
		{"empty", ` { } `, map[string]any{}},
		{"own id", `{"id": "mine", "title": "b"}`, map[string]any{"title": "b"}},
		{"null revision", `{"revision": null}`, map[string]any{}},
		{"other case", `{"ID": "mine", "Created": 1}`, map[string]any{"ID": "mine", "Created": float64(1)}},
		{"updated last", `{"a": 1, "updated": "2000-01-01"}`, map[string]any{"a": float64(1)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &records.Record{ID: id, Revision: 3, JSON: json.RawMessage(c.in), Created: created, Updated: updated}
			b, err := search.DefaultDumper(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			want := map[string]any{}
			for k, v := range c.want {
				want[k] = v
			}
			for k, v := range added {
				want[k] = v
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %s\nwant %v", b, want)
			}
			// one of each key (a duplicate would be decoded differently
			// by different readers)
			if n := topKeys(t, b); n != len(want) {
				t.Errorf("%s: %d keys, want %d", b, n, len(want))
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, b); err != nil || compact.String() != string(b) {
				t.Errorf("not compact: %s", b)
			}
		})
	}
	for _, bad := range []string{`[1, 2]`, `null`, `"s"`, `{"a": }`} {
		r := &records.Record{ID: id, Revision: 1, JSON: json.RawMessage(bad), Created: created, Updated: updated}
		if b, err := search.DefaultDumper(context.Background(), r); err == nil {
			t.Errorf("%s: dumped as %s, want an error", bad, b)
		}
	}
}

// topKeys counts the keys of the JSON object b, duplicates included.
func topKeys(t *testing.T, b []byte) int {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	n := 0
	for dec.More() {
		if _, err := dec.Token(); err != nil { // key
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}
