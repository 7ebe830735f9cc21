package opensearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/repokit/repokit/search"
)

type searchResponse struct {
	PITID    string `json:"pit_id"`
	TimedOut bool   `json:"timed_out"`
	Hits     struct {
		Total struct {
			Value int64 `json:"value"`
		} `json:"total"`
		Hits []struct {
			ID      string            `json:"_id"`
			Version int64             `json:"_version"`
			Score   *float64          `json:"_score"`
			Source  json.RawMessage   `json:"_source"`
			Sort    []json.RawMessage `json:"sort"`
		} `json:"hits"`
	} `json:"hits"`
	Aggregations map[string]json.RawMessage `json:"aggregations"`
}

type aggBuckets struct {
	Buckets []struct {
		Key      json.RawMessage `json:"key"`
		KeyStr   string          `json:"key_as_string"`
		DocCount int64           `json:"doc_count"`
		Sub      *aggBuckets     `json:"sub"`
	} `json:"buckets"`
}

// Search implements search.Driver: POST /<index>/_search, or POST /_search
// with a point in time.
func (d *Driver) Search(ctx context.Context, index string, s *search.Spec) (*search.Results, error) {
	body, err := SearchBody(s)
	if err != nil {
		return nil, err
	}
	path := indexPath(index) + "/_search"
	if s.PIT != "" {
		path = "/_search"
	}
	var out searchResponse
	// no partial results: a shard failure must not look like fewer hits
	params := url.Values{"allow_partial_search_results": {"false"}}
	if _, err := d.do(ctx, http.MethodPost, path, params, body, &out); err != nil {
		return nil, refusal(err)
	}
	if out.TimedOut {
		return nil, fmt.Errorf("opensearch: search timed out on the server")
	}
	res := &search.Results{Total: out.Hits.Total.Value, Facets: map[string]*search.FacetResult{}, PIT: s.PIT}
	if out.PITID != "" && s.PIT != "" {
		res.PIT = out.PITID
	}
	for _, h := range out.Hits.Hits {
		hit := search.Hit{ID: h.ID, Revision: h.Version, Source: h.Source, Sort: h.Sort}
		if h.Score != nil {
			hit.Score = *h.Score
		}
		res.Hits = append(res.Hits, hit)
	}
	for _, f := range s.Facets {
		raw, ok := out.Aggregations[f.Name]
		if !ok {
			continue
		}
		if f.Filter != nil {
			var inner map[string]json.RawMessage
			if err := json.Unmarshal(raw, &inner); err != nil {
				return nil, fmt.Errorf("opensearch: aggregation %s: %w", f.Name, err)
			}
			raw = inner[f.Name]
		}
		var ab aggBuckets
		if err := json.Unmarshal(raw, &ab); err != nil {
			return nil, fmt.Errorf("opensearch: aggregation %s: %w", f.Name, err)
		}
		res.Facets[f.Name] = toFacet(&ab)
	}
	if len(s.Aggs) > 0 {
		if res.Aggs, err = parseAggs(s.Aggs, out.Aggregations); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// refusal maps the engine refusing a query (400: too many clauses, an
// automaton too large, a malformed value) to ErrBadQuery, without the
// engine's reason (it names indices and internals; it stays in the wrapped
// error for logs).
func refusal(err error) error {
	var ae *apiError
	if w, ok := err.(wrapped); ok {
		ae = w.apiError
	} else {
		errors.As(err, &ae)
	}
	if ae != nil && ae.Status == http.StatusBadRequest {
		return &refusedQuery{QueryError: search.QueryError{Param: "q", Pos: -1,
			Msg: "the search engine refused this query (" + ae.Type + "); simplify it"}, cause: err}
	}
	return err
}

// refusedQuery is a QueryError (ErrBadQuery; errors.As finds the
// *search.QueryError) that keeps the engine's error for logs.
type refusedQuery struct {
	search.QueryError
	cause error
}

func (r *refusedQuery) Error() string   { return r.QueryError.Error() }
func (r *refusedQuery) Unwrap() []error { return []error{&r.QueryError, r.cause} }

func toFacet(ab *aggBuckets) *search.FacetResult {
	fr := &search.FacetResult{}
	for _, b := range ab.Buckets {
		key := b.KeyStr
		if key == "" {
			var ks string
			var kf float64
			switch {
			case json.Unmarshal(b.Key, &ks) == nil:
				key = ks
			case json.Unmarshal(b.Key, &kf) == nil: // numbers in decimal, as bleve's
				key = strconv.FormatFloat(kf, 'f', -1, 64)
			default:
				key = string(b.Key)
			}
		}
		bk := search.Bucket{Key: key, Count: b.DocCount}
		if b.Sub != nil {
			bk.Sub = toFacet(b.Sub)
		}
		fr.Buckets = append(fr.Buckets, bk)
	}
	return fr
}

// Refs implements search.Driver: a search sorted by _id with search_after,
// no source, versions on.
func (d *Driver) Refs(ctx context.Context, index string, after string, n int) ([]search.DocRef, error) {
	body := obj{
		"query":   obj{"match_all": obj{}},
		"size":    n,
		"sort":    []any{obj{"_id": obj{"order": "asc"}}},
		"_source": false,
		"version": true,
	}
	if after != "" {
		body["search_after"] = []any{after}
	}
	var out searchResponse
	if _, err := d.do(ctx, http.MethodPost, indexPath(index)+"/_search", nil, body, &out); err != nil {
		return nil, err
	}
	refs := make([]search.DocRef, len(out.Hits.Hits))
	for i, h := range out.Hits.Hits {
		refs[i] = search.DocRef{ID: h.ID, Revision: h.Version}
	}
	return refs, nil
}

// OpenPIT implements search.PITDriver: POST /<index>/_search/point_in_time
// (OpenSearch 2.4+).
func (d *Driver) OpenPIT(ctx context.Context, index string, keepAlive string) (string, error) {
	var out struct {
		PITID string `json:"pit_id"`
	}
	if _, err := d.do(ctx, http.MethodPost, indexPath(index)+"/_search/point_in_time", url.Values{"keep_alive": {keepAlive}}, nil, &out); err != nil {
		return "", err
	}
	if out.PITID == "" {
		return "", fmt.Errorf("opensearch: point in time: no pit_id returned")
	}
	return out.PITID, nil
}

// ClosePIT implements search.PITDriver: DELETE /_search/point_in_time.
func (d *Driver) ClosePIT(ctx context.Context, id string) error {
	_, err := d.do(ctx, http.MethodDelete, "/_search/point_in_time", nil, obj{"pit_id": []string{id}}, nil)
	return err
}
