// Package opensearch is the OpenSearch (1.x and 2.x) search driver, through
// github.com/opensearch-project/opensearch-go/v4, registered for URLs
//
//	opensearch://host:9200[?user=u&password=p&prefix=app-]   plain HTTP
//	opensearchs://host:9200[?tls_insecure=true&ca=/path/ca.pem]  HTTPS
//	https://host:9200, http://host:9200                      the same
//
// Writes use the _bulk API with version_type=external_gte (the record
// revision is the external version); searches use the query DSL with
// post_filter, filter-wrapped terms aggregations, search_after and point in
// time.
package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	opensearchgo "github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/repokit/repokit/search"
)

func init() {
	search.Register(func(ctx context.Context, u *url.URL) (search.Driver, error) {
		return Open(ctx, u)
	}, "opensearch", "opensearchs", "http", "https")
}

// Driver is the OpenSearch driver.
type Driver struct {
	api *opensearchapi.Client
}

var (
	_ search.Driver    = (*Driver)(nil)
	_ search.PITDriver = (*Driver)(nil)
)

// Open opens a driver from a URL (see the package documentation). Query
// parameters: user, password, tls_insecure (skip certificate verification),
// ca (PEM file of trusted CAs), timeout (per request, e.g. 30s).
func Open(ctx context.Context, u *url.URL) (*Driver, error) {
	scheme := "http"
	switch u.Scheme {
	case "opensearchs", "https":
		scheme = "https"
	}
	q := u.Query()
	cfg := opensearchgo.Config{
		Addresses: []string{scheme + "://" + u.Host},
		Username:  q.Get("user"),
		Password:  q.Get("password"),
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		if p, ok := u.User.Password(); ok {
			cfg.Password = p
		}
	}
	if v := q.Get("tls_insecure"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%w: tls_insecure=%q", search.ErrInvalid, v)
		}
		cfg.InsecureSkipVerify = b
	}
	if p := q.Get("ca"); p != "" {
		pem, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("%w: ca: %v", search.ErrInvalid, err)
		}
		cfg.CACert = pem
	}
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("%w: timeout=%q", search.ErrInvalid, v)
		}
		cfg.RequestTimeout = d
	}
	api, err := opensearchapi.NewClient(opensearchapi.Config{Client: cfg})
	if err != nil {
		return nil, fmt.Errorf("opensearch: client: %w", err)
	}
	return &Driver{api: api}, nil
}

// Close releases the client.
func (d *Driver) Close() error { return d.api.Close() }

// apiError is an OpenSearch error response.
type apiError struct {
	Status int
	Type   string
	Reason string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("opensearch: %d %s: %s", e.Status, e.Type, e.Reason)
}

// do sends one request; body may be nil, []byte or a value to marshal. The
// response body is decoded into out when non-nil. Errors are *apiError
// wrapped with the matching search sentinel.
func (d *Driver) do(ctx context.Context, method, path string, params url.Values, body any, out any) (int, error) {
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			return 0, err
		}
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	u := path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, err
	}
	if raw != nil {
		if strings.HasSuffix(path, "/_bulk") {
			req.Header.Set("Content-Type", "application/x-ndjson")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	resp, err := d.api.Client.Stream(req) // the body is read and closed below
	if err != nil {
		return 0, fmt.Errorf("opensearch: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("opensearch: %s %s: read: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		if method == http.MethodHead {
			return resp.StatusCode, nil
		}
		return resp.StatusCode, parseError(resp.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("opensearch: %s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

type wrapped struct {
	*apiError
	sentinel error
}

func (w wrapped) Unwrap() []error { return []error{w.sentinel} }

func parseError(status int, data []byte) error {
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	e := &apiError{Status: status}
	if json.Unmarshal(data, &body) == nil && len(body.Error) > 0 {
		var obj struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(body.Error, &obj) == nil {
			e.Type, e.Reason = obj.Type, obj.Reason
		} else {
			_ = json.Unmarshal(body.Error, &e.Reason)
		}
	} else {
		e.Reason = strings.TrimSpace(string(data))
	}
	var s error
	switch {
	case status == 404:
		s = search.ErrNotFound
	case e.Type == "resource_already_exists_exception" || e.Type == "invalid_alias_name_exception":
		s = search.ErrExists
	case status == 400:
		s = search.ErrInvalid
	default:
		return e
	}
	return wrapped{e, s}
}

func indexPath(name string) string { return "/" + url.PathEscape(name) }
