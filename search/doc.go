// Package search indexes documents and queries them through one portable API
// over pluggable engines, opened from URLs the way gocloud.dev opens buckets:
//
//	bleve:///abs/dir                         embedded (github.com/blevesearch/bleve/v2), the default
//	opensearch://host:9200?user=u&password=p OpenSearch 1.x/2.x over HTTP
//	opensearchs://host:9200?tls_insecure=1   OpenSearch over HTTPS (also https://)
//
// Drivers register themselves from their own packages (search/blevesearch,
// search/opensearch); import them for their side effect.
//
// An [Engine] manages indices under an application prefix. Every index is a
// write alias <prefix><name> over a timestamped concrete index
// <prefix><name>-<unixts>, so a mapping change reindexes into a new concrete
// index and switches the alias atomically ([Index.Reindex]).
//
// Documents carry the revision of the record they were built from, used as an
// external version (OpenSearch version_type=external_gte, the same rule on
// bleve): an older revision never overwrites a newer one, a stale write is a
// no-op and not an error, and deletes leave a tombstone so that a late older
// write cannot resurrect a deleted document.
//
// Queries come from users as a [Request] (filled from URL parameters) and are
// parsed by this package's own Lucene-syntax parser ([Parse]) against a field
// allow-list, so a malformed or forbidden query is an [ErrBadQuery] with its
// position, never a server error. The parser follows OpenSearch's
// query_string: field:* and _exists_:field are exists queries, term~ and
// term~1 fuzzy terms, "a b"~2 sloppy phrases, term^2 and (group)^3 boosts,
// field:>N and its siblings ranges, and dates use OpenSearch's default format
// (partial dates, epoch milliseconds), its missing-component rounding for
// bounds and its date math (now-1y/y, 2016||/y). Wildcard, prefix and fuzzy
// terms are bounded ([MaxExpansions], [MaxWildcards]) so that no query makes
// the engine enumerate its dictionary without end. A text field mapped with
// "index_options": "freqs" (or "docs") is indexed without term positions,
// much cheaper for long text such as descriptions: its words are found and
// scored, a phrase or proximity query of more than one word on it is an
// ErrBadQuery (as in OpenSearch), and an unqualified phrase searches only
// the default fields that have positions. Every driver is held to the same
// hits by the semantics suite of package searchtest.
//
// [Searcher] turns a Request into an engine query with filters, facets
// (post-filtered so the other facets keep their counts; off by default on
// cursor pages), named sort options, pagination and search_after cursors
// bound to their sort and query.
//
// Writes reach searches after a refresh: pass [Refresh] to a direct write,
// or wait for a revision with [Index.WaitRevision] (or
// [Indexer.WaitSearchable] for records indexed through the outbox).
//
// Aggregations ([Agg] in [Spec.Aggs], or [SearchConfig.Aggs]) are
// OpenSearch's: terms, histogram, date_histogram (calendar intervals),
// range, date_range, min/max/avg/sum/stats, cardinality and geohash_grid,
// nested under bucket aggregations. OpenSearch computes them natively; the
// bleve driver computes them exactly from the doc values of the matching
// documents ([EvalAggs]). Fields of type geo_point ([GeoPoint]) take
// OpenSearch's point forms and are queried with [GeoDistance],
// [GeoBoundingBox] and [GeoPolygon] and sorted by distance
// ([SortField].Near) on both engines.
//
// [Indexer] keeps an index equal to the records database with no drift: record
// changes enqueue index operations in the record's own transaction (an outbox
// through package tasks), batch consumers read the current revision of each
// record and ack only what the engine confirmed, and [Indexer.CheckDrift]
// compares database and index by streaming both in id order. A host that
// queues index operations itself does so in its own transaction through
// [Indexer.WithTx], as with the WithTx views of records, tasks and files.
//
// [New] wraps a driver in an [Engine] and [Open] opens both from a URL; the
// engine takes [Option]s and [NewIndexer] takes [IndexerOption]s, and
// [WithLogger] is both.
package search
