package blevesearch

import (
	"encoding/binary"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	"github.com/blevesearch/vellum"

	"github.com/repokit/repokit/search"
)

// Facets on fields with few distinct values are counted without reading
// doc values: the pass collects, per segment, the documents each facet
// counts (a bitmap), and the count of a term is the size of the
// intersection of that bitmap with the term's postings (a bitmap in the
// segment). Reading the doc values of every match costs a decompression
// of every chunk the matches touch and a map update per value; the
// intersections cost a few microseconds per term.

// bitFacetMaxTerms is the largest number of terms a facet field may have in
// a segment to be counted with bitmaps (else doc values are read).
const bitFacetMaxTerms = 1024

// docSets collects, per segment of a scorch snapshot, the documents of
// one or more sets given in increasing global document number.
type docSets struct {
	segs    []*scorch.SegmentSnapshot
	offsets []uint64 // global number of each segment's first document
	cur     int      // segment of the last document added
	sets    [][]*roaring.Bitmap
	bufs    [][]uint32
}

func newDocSets(sn *scorch.IndexSnapshot, n int) *docSets {
	ds := &docSets{segs: sn.Segments(), sets: make([][]*roaring.Bitmap, n), bufs: make([][]uint32, n)}
	var running uint64
	for _, s := range ds.segs {
		ds.offsets = append(ds.offsets, running)
		running += s.Segment().Count()
	}
	for i := range ds.sets {
		ds.sets[i] = make([]*roaring.Bitmap, len(ds.segs))
	}
	return ds
}

// seek moves to the segment of the internal id and returns the local
// document number.
func (ds *docSets) seek(id index.IndexInternalID) uint32 {
	n := binary.BigEndian.Uint64(id)
	for ds.cur+1 < len(ds.offsets) && n >= ds.offsets[ds.cur+1] {
		ds.flush()
		ds.cur++
	}
	return uint32(n - ds.offsets[ds.cur])
}

func (ds *docSets) add(set int, local uint32) {
	ds.bufs[set] = append(ds.bufs[set], local)
	if len(ds.bufs[set]) == 4096 {
		ds.flushSet(set)
	}
}

func (ds *docSets) flushSet(set int) {
	if len(ds.bufs[set]) == 0 {
		return
	}
	bm := ds.sets[set][ds.cur]
	if bm == nil {
		bm = roaring.New()
		ds.sets[set][ds.cur] = bm
	}
	bm.AddMany(ds.bufs[set])
	ds.bufs[set] = ds.bufs[set][:0]
}

func (ds *docSets) flush() {
	for i := range ds.bufs {
		ds.flushSet(i)
	}
}

// bitFacetOK reports whether the facet on field (terms facet without a
// prefix filter) can be counted with bitmaps in every segment of sn.
func bitFacetOK(sn *scorch.IndexSnapshot, field string) bool {
	for _, s := range sn.Segments() {
		d, err := s.Segment().Dictionary(field)
		if err != nil {
			return false
		}
		if d.Cardinality() > bitFacetMaxTerms {
			return false
		}
	}
	return true
}

// countTerms counts, for every term of field, the documents of set (one
// bitmap per segment, nil: none) holding it, into a bleve facet result of
// the top size terms, as bleve's terms facet builder returns them.
func (ds *docSets) countTerms(set int, field string, size int) (*bsearch.FacetResult, error) {
	counts := map[string]int{}
	var total int
	for si, s := range ds.segs {
		bm := ds.sets[set][si]
		if bm == nil || bm.IsEmpty() {
			continue
		}
		d, err := s.Segment().Dictionary(field)
		if err != nil {
			return nil, err
		}
		it := d.AutomatonIterator(&vellum.AlwaysMatch{}, nil, nil)
		var pl segment.PostingsList
		var pi segment.PostingsIterator
		for {
			e, err := it.Next()
			if err != nil {
				return nil, err
			}
			if e == nil {
				break
			}
			if pl, err = d.PostingsList([]byte(e.Term), nil, pl); err != nil {
				return nil, err
			}
			pi = pl.Iterator(false, false, false, pi)
			n, err := intersect(bm, pi)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				counts[e.Term] += n
				total += n
			}
		}
	}
	rv := &bsearch.FacetResult{Field: field, Total: total, Terms: &bsearch.TermFacets{}}
	for t, c := range counts {
		rv.Terms.Add(&bsearch.TermFacet{Term: t, Count: c})
	}
	sort.Sort(rv.Terms) // count desc, term asc
	rv.Terms.TrimToTopN(min(size, rv.Terms.Len()))
	return rv, nil
}

// intersect returns the number of documents of bm in the postings of pi.
func intersect(bm *roaring.Bitmap, pi segment.PostingsIterator) (int, error) {
	if o, ok := pi.(segment.OptimizablePostingsIterator); ok {
		if a := o.ActualBitmap(); a != nil {
			return int(bm.AndCardinality(a)), nil
		}
		if n, ok := o.DocNum1Hit(); ok {
			if bm.Contains(uint32(n)) {
				return 1, nil
			}
			return 0, nil
		}
	}
	n := 0
	for {
		p, err := pi.Next()
		if err != nil {
			return 0, err
		}
		if p == nil {
			return n, nil
		}
		if bm.Contains(uint32(p.Number())) {
			n++
		}
	}
}

// filterBitmaps returns, per segment of sn, the documents matching q when q
// is a conjunction of terms of keyword fields (as facet selections are),
// else nil. Deleted documents are included: the bitmaps are only
// intersected with sets of matches.
func filterBitmaps(sn *scorch.IndexSnapshot, q search.Query, fields map[string]search.Field) ([]*roaring.Bitmap, error) {
	return queryBitmaps(sn, q, fields, nil)
}

// queryBitmaps is filterBitmaps, also for match queries (every token in
// one of the fields, as compile runs them) when m is set.
func queryBitmaps(sn *scorch.IndexSnapshot, q search.Query, fields map[string]search.Field, m mapping.IndexMapping) ([]*roaring.Bitmap, error) {
	segs := sn.Segments()
	terms := func(field string, vals []string) ([]*roaring.Bitmap, error) {
		if fields[field].Type != search.Keyword {
			return nil, nil
		}
		out := make([]*roaring.Bitmap, len(segs))
		for si, s := range segs {
			d, err := s.Segment().Dictionary(field)
			if err != nil {
				return nil, err
			}
			bm := roaring.New()
			for _, v := range vals {
				pl, err := d.PostingsList([]byte(v), nil, nil)
				if err != nil {
					return nil, err
				}
				if err := orPostings(bm, pl.Iterator(false, false, false, nil)); err != nil {
					return nil, err
				}
			}
			out[si] = bm
		}
		return out, nil
	}
	switch q := q.(type) {
	case search.Term:
		if q.Value == "true" || q.Value == "false" {
			return nil, nil // compiled as a boolean or keyword term
		}
		return terms(q.Field, []string{q.Value})
	case search.Terms:
		if len(q.Values) == 0 {
			return nil, nil
		}
		return terms(q.Field, q.Values)
	case search.Bool:
		all := append(append([]search.Query(nil), q.Must...), q.Filter...)
		if len(q.Should) > 0 || len(q.MustNot) > 0 || len(all) == 0 {
			return nil, nil
		}
		var out []*roaring.Bitmap
		for _, c := range all {
			bs, err := queryBitmaps(sn, c, fields, m)
			if err != nil || bs == nil {
				return nil, err
			}
			if out == nil {
				out = bs
				continue
			}
			for i := range out {
				out[i].And(bs[i])
			}
		}
		return out, nil
	case search.Match:
		if m == nil {
			return nil, nil
		}
		fs := q.Fields
		if q.Field != "" {
			fs = []string{q.Field}
		}
		out := make([]*roaring.Bitmap, len(segs))
		for i := range out {
			out[i] = roaring.New()
		}
		for _, f := range fs {
			a := m.AnalyzerNamed(m.AnalyzerNameForPath(f))
			if a == nil {
				return nil, nil
			}
			var toks []string
			for _, t := range a.Analyze([]byte(q.Text)) {
				toks = append(toks, string(t.Term))
			}
			if len(toks) == 0 {
				continue // matches nothing in f
			}
			for si, s := range segs {
				d, err := s.Segment().Dictionary(f)
				if err != nil {
					return nil, err
				}
				var in *roaring.Bitmap
				for _, t := range toks {
					pl, err := d.PostingsList([]byte(t), nil, nil)
					if err != nil {
						return nil, err
					}
					bm := roaring.New()
					if err := orPostings(bm, pl.Iterator(false, false, false, nil)); err != nil {
						return nil, err
					}
					if in == nil {
						in = bm
					} else {
						in.And(bm)
					}
				}
				out[si].Or(in)
			}
		}
		return out, nil
	}
	return nil, nil
}

// orPostings adds the postings of pi to bm.
func orPostings(bm *roaring.Bitmap, pi segment.PostingsIterator) error {
	if o, ok := pi.(segment.OptimizablePostingsIterator); ok {
		if a := o.ActualBitmap(); a != nil {
			bm.Or(a)
			return nil
		}
		if n, ok := o.DocNum1Hit(); ok {
			bm.Add(uint32(n))
			return nil
		}
	}
	for {
		p, err := pi.Next()
		if err != nil {
			return err
		}
		if p == nil {
			return nil
		}
		bm.Add(uint32(p.Number()))
	}
}

// baseBitmaps returns, per segment of sn, the live documents matching q
// when q matches everything or is a conjunction of terms of keyword fields
// and match queries (analyzed with m), else nil; noTombs excludes the
// tombstones.
func baseBitmaps(sn *scorch.IndexSnapshot, q search.Query, fields map[string]search.Field, m mapping.IndexMapping, noTombs bool) ([]*roaring.Bitmap, error) {
	segs := sn.Segments()
	var out []*roaring.Bitmap
	switch q.(type) {
	case nil, search.MatchAll:
		out = make([]*roaring.Bitmap, len(segs))
	default:
		bs, err := queryBitmaps(sn, q, fields, m)
		if err != nil || bs == nil {
			return nil, err
		}
		out = bs
	}
	for i, s := range segs {
		live := s.DocNumbersLive()
		if out[i] == nil {
			out[i] = live
		} else {
			out[i].And(live)
		}
		if noTombs { // as notTombstone: not the boolean term T of TombstoneField
			d, err := s.Segment().Dictionary(TombstoneField)
			if err != nil {
				return nil, err
			}
			pl, err := d.PostingsList([]byte("T"), nil, nil)
			if err != nil {
				return nil, err
			}
			tombs := roaring.New()
			if err := orPostings(tombs, pl.Iterator(false, false, false, nil)); err != nil {
				return nil, err
			}
			out[i].AndNot(tombs)
		}
	}
	return out, nil
}
