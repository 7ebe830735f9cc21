package fileshttp

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/repokit/repokit/files"
)

// BucketResolver returns the id of the bucket a request addresses, for a
// handler mounted under another resource's route (a record's files). An
// error is rendered like the handler's own (404 when it matches
// files.ErrNotFound, 403 for access.ErrForbidden...).
type BucketResolver func(r *http.Request) (bucketID string, err error)

// WithBucketResolver serves one bucket per request, chosen by resolve,
// instead of taking the bucket id from the path. Mount the handler on two
// patterns whose {key...} wildcard is the object key:
//
//	h := fileshttp.New(store, fileshttp.WithBucketResolver(rf.BucketResolver("id")))
//	mux.Handle("/api/records/{id}/files/{key...}", h) // objects (and GET .../files/ lists)
//	mux.Handle("/api/records/{id}/files", h)          // GET lists the bucket
//
// Routes are those of the bucket and object routes without the bucket
// segment; creating buckets through the API is not offered (the resolver's
// owner creates them). The key is read from the {key...} path value only:
// the rest of the URL path is not interpreted.
func WithBucketResolver(resolve BucketResolver) Option {
	return func(h *Handler) { h.resolve = resolve }
}

// serveResolved answers a request through the resolver: it finds the
// bucket, then dispatches as if the request were /{bucket}/{key}.
func (h *Handler) serveResolved(w http.ResponseWriter, r *http.Request) {
	bucket, err := h.resolve(r)
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	key := r.PathValue("key")
	if strings.TrimSuffix(key, "/") != "" && path.Clean(strings.TrimSuffix(key, "/")) != strings.TrimSuffix(key, "/") {
		writeError(w, r, h.log, fmt.Errorf("%w: key %q has empty, . or .. segments", files.ErrInvalidKey, key))
		return
	}
	inner := "/" + bucket
	if key != "" {
		inner += "/" + key
	}
	r2 := r.Clone(r.Context())
	r2.URL = cloneURL(r.URL)
	r2.URL.Path = inner
	r2.URL.RawPath = ""
	h.mux.ServeHTTP(w, r2)
}

func cloneURL(u *url.URL) *url.URL {
	c := *u
	if u.User != nil {
		uu := *u.User
		c.User = &uu
	}
	return &c
}
