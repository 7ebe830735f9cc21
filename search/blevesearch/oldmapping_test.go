package blevesearch

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/util"

	"github.com/repokit/repokit/search"
)

// An index created before the fast tokenizer (its stored mapping names
// bleve's "unicode" tokenizer) opens and answers as before: bleve analyzes
// with the mapping stored in the index, and both tokenizers give the same
// tokens, so no reindex is needed.
func TestIndexWithUnicodeTokenizerStillWorks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := New(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	def := search.Definition{Mappings: json.RawMessage(`{"properties": {"title": {"type": "text"}}}`)}
	if err := d.CreateIndex(ctx, "old", def); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Bulk(ctx, "old", []search.Op{{Kind: search.OpIndex, ID: "a", Revision: 1, Source: json.RawMessage(`{"title": "Dark matter, U.S.A. 3.14"}`)}}, true); err != nil {
		t.Fatal(err)
	}
	im, err := Mapping(def)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := json.Marshal(im)
	if err != nil {
		t.Fatal(err)
	}
	old := strings.ReplaceAll(string(mb), `"tokenizer":"`+wordsTokenizerName+`"`, `"tokenizer":"unicode"`)
	if old == string(mb) {
		t.Fatal("mapping does not name the words tokenizer")
	}
	d.mu.Lock()
	b, err := d.getLocked("old")
	d.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.idx.SetInternal(util.MappingInternalKey, []byte(old)); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = New(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.mu.Lock()
	b, err = d.getLocked("old")
	d.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if j, _ := json.Marshal(b.idx.Mapping()); !strings.Contains(string(j), `"tokenizer":"unicode"`) {
		t.Fatalf("reopened index does not use its stored mapping: %s", j)
	}
	for _, q := range []search.Query{
		search.Match{Field: "title", Text: "DARK"},
		search.Phrase{Field: "title", Text: "matter u.s.a"},
		search.Match{Field: "title", Text: "3.14"},
	} {
		res, err := d.Search(ctx, "old", &search.Spec{Query: q, Size: 10})
		if err != nil || len(res.Hits) != 1 {
			t.Errorf("%+v: %v %v, want one hit", q, res, err)
		}
	}
}
