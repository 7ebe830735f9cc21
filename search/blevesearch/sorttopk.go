package blevesearch

import (
	"encoding/binary"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/numeric"
	bsearch "github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	"github.com/blevesearch/vellum"
)

// The top hits of a search sorted by one number or date field are found
// without reading the field's doc values for every hit. bleve indexes a
// number at several precisions (terms of the value shifted right by 0, 4,
// ..., 60 bits), so each term of a coarse precision is a bucket of a value
// range whose postings are a bitmap. The buckets are walked best first
// (highest first when descending); the hits in a bucket (the intersection
// of the hits' bitmap with the bucket's postings) are sorted exactly from
// their doc values, and the walk stops once the kept hits are all strictly
// better than anything the next bucket can hold. Hits without a value
// (sorted last) are read only if the buckets could not fill the page.

// bucketTopK is the state of the bucket walk of one shard.
type bucketTopK struct {
	p     *onePassPlan
	ds    *docSets
	set   int // the hits' set in ds
	field string
	desc  bool
	eval  func(global uint64) error // sorts one hit exactly into the heap
	heap  *hitHeap
}

// bucket is one term of a coarse precision: its postings and the encoded
// (shift 0) bounds of its values.
type bucket struct {
	term   []byte
	lo, hi string
}

// maxBuckets bounds the terms of the precision level the walk uses (the
// terms of the levels are listed for each search): about 256 documents
// per bucket.
func maxBuckets(docs uint64) int {
	return int(min(max(docs/256, 16), 4096))
}

// omitCounter is implemented by zap dictionaries: an iterator over terms
// that does not read their postings to count them.
type omitCounter interface {
	AutomatonIteratorOmitCount(a segment.Automaton, startKeyInclusive, endKeyExclusive []byte) segment.DictionaryIterator
}

// levelBuckets returns the terms of the finest precision of field in d with at
// most limit terms (nil if even the coarsest has more, or none).
func levelBuckets(d segment.TermDictionary, limit int) ([]bucket, error) {
	var best []bucket
	for shift := 60; shift >= 4; shift -= 4 {
		start := []byte{numeric.ShiftStartInt64 + byte(shift)}
		end := []byte{numeric.ShiftStartInt64 + byte(shift) + 1}
		var it segment.DictionaryIterator
		if oc, ok := d.(omitCounter); ok {
			it = oc.AutomatonIteratorOmitCount(&vellum.AlwaysMatch{}, start, end)
		} else {
			it = d.AutomatonIterator(&vellum.AlwaysMatch{}, start, end)
		}
		var bs []bucket
		for {
			e, err := it.Next()
			if err != nil {
				return nil, err
			}
			if e == nil {
				break
			}
			if len(bs) == limit {
				return best, nil
			}
			lo, err := numeric.PrefixCoded(e.Term).Int64()
			if err != nil {
				return nil, err
			}
			hi := lo + (int64(1)<<shift - 1)
			bs = append(bs, bucket{term: []byte(e.Term),
				lo: string(numeric.MustNewPrefixCodedInt64(lo, 0)),
				hi: string(numeric.MustNewPrefixCodedInt64(hi, 0))})
		}
		best = bs
	}
	return best, nil
}

// run walks the buckets of every segment.
func (b *bucketTopK) run() error {
	for si, s := range b.ds.segs {
		hits := b.ds.sets[b.set][si]
		if hits == nil || hits.IsEmpty() {
			continue
		}
		d, err := s.Segment().Dictionary(b.field)
		if err != nil {
			return err
		}
		bs, err := levelBuckets(d, maxBuckets(s.Segment().Count()))
		if err != nil {
			return err
		}
		seen := roaring.New()
		stopped := false
		var pl segment.PostingsList
		var pi segment.PostingsIterator
		for i := range bs {
			bk := bs[i]
			if b.desc {
				bk = bs[len(bs)-1-i]
			}
			best, worst := bk.hi, bk.lo // best possible value in sort order
			if !b.desc {
				best, worst = bk.lo, bk.hi
			}
			if b.full() && b.strictlyBetter(b.heap.hs[0].sort[0], best) {
				stopped = true
				break
			}
			if a := b.p.after; a != nil && b.strictlyBetter(worst, a.sort[0]) {
				continue // every value of the bucket is before the cursor
			}
			if pl, err = d.PostingsList(bk.term, nil, pl); err != nil {
				return err
			}
			pi = pl.Iterator(false, false, false, pi)
			cand, err := andPostings(hits, pi)
			if err != nil {
				return err
			}
			cand.AndNot(seen)
			seen.Or(cand)
			if err := b.evalAll(si, cand); err != nil {
				return err
			}
		}
		if !stopped {
			// hits without a value of the field, sorted last
			rest := roaring.AndNot(hits, seen)
			if err := b.evalAll(si, rest); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *bucketTopK) full() bool { return b.p.k > 0 && len(b.heap.hs) == b.p.k }

// strictlyBetter reports whether encoded value x sorts strictly before y.
func (b *bucketTopK) strictlyBetter(x, y string) bool {
	if b.desc {
		return x > y
	}
	return x < y
}

func (b *bucketTopK) evalAll(si int, bm *roaring.Bitmap) error {
	off := b.ds.offsets[si]
	it := bm.Iterator()
	for it.HasNext() {
		if err := b.eval(off + uint64(it.Next())); err != nil {
			return err
		}
	}
	return nil
}

// andPostings returns the documents of bm in the postings of pi.
func andPostings(bm *roaring.Bitmap, pi segment.PostingsIterator) (*roaring.Bitmap, error) {
	if o, ok := pi.(segment.OptimizablePostingsIterator); ok {
		if a := o.ActualBitmap(); a != nil {
			return roaring.And(bm, a), nil
		}
		if n, ok := o.DocNum1Hit(); ok {
			out := roaring.New()
			if bm.Contains(uint32(n)) {
				out.Add(uint32(n))
			}
			return out, nil
		}
	}
	out := roaring.New()
	for {
		p, err := pi.Next()
		if err != nil {
			return nil, err
		}
		if p == nil {
			return out, nil
		}
		if bm.Contains(uint32(p.Number())) {
			out.Add(uint32(p.Number()))
		}
	}
}

// internalID encodes a global document number as scorch does.
func internalID(buf []byte, n uint64) index.IndexInternalID {
	buf = append(buf[:0], 0, 0, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint64(buf, n)
	return buf
}

// bucketSortField returns the field of a sort the bucket walk can serve:
// one field (before the _id tie-breaker) mapped as a number or date.
func bucketSortField(p *onePassPlan, fieldType func(string) bool) (*bsearch.SortField, bool) {
	if len(p.sort) != 1 {
		return nil, false
	}
	sf, ok := p.sort[0].(*bsearch.SortField)
	if !ok || sf.Missing != bsearch.SortFieldMissingLast || sf.Type == bsearch.SortFieldAsString {
		return nil, false
	}
	return sf, fieldType(sf.Field)
}
