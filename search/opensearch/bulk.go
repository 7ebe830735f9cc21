package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/repokit/repokit/search"
)

// BulkBody renders ops as the NDJSON body of a _bulk request with
// version_type=external_gte (exported for golden tests and tools).
func BulkBody(ops []search.Op) ([]byte, error) {
	var buf bytes.Buffer
	for _, op := range ops {
		meta := map[string]map[string]any{string(op.Kind): {"_id": op.ID, "version": op.Revision, "version_type": "external_gte"}}
		b, err := json.Marshal(meta)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
		if op.Kind == search.OpIndex {
			var c bytes.Buffer
			if err := json.Compact(&c, op.Source); err != nil {
				return nil, fmt.Errorf("%w: source of %s: %v", search.ErrInvalid, op.ID, err)
			}
			buf.Write(c.Bytes())
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes(), nil
}

type bulkResponse struct {
	Errors bool                  `json:"errors"`
	Items  []map[string]bulkItem `json:"items"`
}

type bulkItem struct {
	ID     string `json:"_id"`
	Status int    `json:"status"`
	Result string `json:"result"`
	Error  *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

// Bulk implements search.Driver: one POST /<index>/_bulk. 409 version
// conflicts are Stale (the index holds an equal or newer revision), a 404 on
// delete is Applied (OpenSearch records the delete version all the same),
// 429 and 5xx items are Failed and Retryable, other errors Failed.
func (d *Driver) Bulk(ctx context.Context, index string, ops []search.Op, refresh bool) ([]search.OpResult, error) {
	res := make([]search.OpResult, len(ops))
	// items whose source is not valid JSON never reach the engine
	send := make([]search.Op, 0, len(ops))
	pos := make([]int, 0, len(ops))
	for i, op := range ops {
		res[i].ID = op.ID
		if op.Kind == search.OpIndex && !json.Valid(op.Source) {
			res[i].Status, res[i].Reason = search.Failed, "source is not valid JSON"
			continue
		}
		if op.Force {
			// external versions cannot go down in OpenSearch: an index ahead
			// of the database is rebuilt instead (Indexer.RebuildFresh)
			res[i].Status, res[i].Reason = search.Failed, "OpenSearch cannot overwrite a higher external version; rebuild the index"
			continue
		}
		send = append(send, op)
		pos = append(pos, i)
	}
	if len(send) == 0 {
		return res, nil
	}
	body, err := BulkBody(send)
	if err != nil {
		return nil, err
	}
	var params url.Values
	if refresh {
		params = url.Values{"refresh": {"wait_for"}}
	}
	var out bulkResponse
	if _, err := d.do(ctx, http.MethodPost, indexPath(index)+"/_bulk", params, body, &out); err != nil {
		return nil, err
	}
	if len(out.Items) != len(send) {
		return nil, fmt.Errorf("opensearch: bulk returned %d items for %d operations", len(out.Items), len(send))
	}
	for j, item := range out.Items {
		i := pos[j]
		var it bulkItem
		for _, v := range item {
			it = v
		}
		r := &res[i]
		switch {
		case it.Status >= 200 && it.Status < 300:
			r.Status = search.Applied
		case it.Status == 409:
			r.Status = search.Stale
		case it.Status == 404 && ops[i].Kind == search.OpDelete:
			r.Status = search.Applied
		default:
			r.Status = search.Failed
			r.Reason = fmt.Sprintf("status %d", it.Status)
			if it.Error != nil {
				r.Reason = fmt.Sprintf("%s: %s", it.Error.Type, it.Error.Reason)
			}
			r.Retryable = it.Status == 429 || it.Status >= 500
		}
	}
	return res, nil
}
