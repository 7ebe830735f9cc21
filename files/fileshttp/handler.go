// Package fileshttp serves a files.Store as the Files REST API (Invenio's
// invenio-files-rest, done better): buckets, versioned objects streamed in
// and out, multipart uploads, JSON errors with the right status, a
// permission hook, and optional download offloading (302 to a signed URL,
// or X-Accel-Redirect).
//
// The handler uses paths relative to where it is mounted, so it works under
// any prefix with http.StripPrefix:
//
//	mux.Handle("/files/", http.StripPrefix("/files", fileshttp.New(store)))
//
// Routes:
//
//	POST   /                                create a bucket
//	GET    /{bucket}                         list heads (?versions, ?uploads, ?prefix=, ?cursor=, ?limit=)
//	HEAD   /{bucket}                         bucket exists (size and quota in headers)
//	PUT    /{bucket}/{key}                   upload (Content-Length, Content-MD5, X-Object-Tag: k=v; ?mimetype=, ?storageClass=)
//	GET    /{bucket}/{key}                   download (?versionId=, ?download; Range, If-Range, If-None-Match)
//	HEAD   /{bucket}/{key}                   headers only
//	DELETE /{bucket}/{key}                   delete marker (204 also when the key is absent or already deleted)
//	DELETE /{bucket}/{key}?versionId=        remove that version (404 when it does not exist)
//	POST   /{bucket}/{key}?versionId=        restore that version as the head
//	POST   /{bucket}/{key}?uploads&size=&partSize=   start a multipart upload
//	PUT    /{bucket}/{key}?uploadId=&partNumber=     upload a part
//	GET    /{bucket}/{key}?uploadId=                 list parts
//	POST   /{bucket}/{key}?uploadId=                 complete
//	DELETE /{bucket}/{key}?uploadId=                 abort
//
// Object keys: the key is the rest of the path after the bucket, percent-
// decoded, and is normalized to Unicode NFC (see files.NormalizeKey), so
// the composed and decomposed spellings of a name reach the same object.
// A DELETE of a key is idempotent (204 whether or not there was something
// to delete, as on S3); a DELETE of one version is not: of concurrent
// deletions of a version exactly one gets 204, the others 404.
//
// Errors are JSON documents {"status": N, "message": "..."} for every
// status, the 412 and 416 of conditional and range GETs included, and
// carry none of the file's headers. Messages name only what the client
// sent or can see (keys, bucket, version and upload ids, sizes); storage
// keys, file instance ids and the layers an error went through are logged
// (slog), not shown.
package fileshttp

import (
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/repokit/repokit/files"
)

// Action names what a request wants to do, for the permission hook.
type Action string

// Actions passed to the permission hook.
const (
	ActionBucketCreate    Action = "bucket-create"
	ActionBucketRead      Action = "bucket-read"          // HEAD/GET bucket (heads)
	ActionBucketVersions  Action = "bucket-read-versions" // GET bucket ?versions
	ActionBucketUploads   Action = "bucket-read-uploads"  // GET bucket ?uploads
	ActionObjectRead      Action = "object-read"
	ActionVersionRead     Action = "object-read-version" // GET with ?versionId=
	ActionObjectWrite     Action = "object-write"        // PUT, multipart
	ActionObjectDelete    Action = "object-delete"       // delete marker
	ActionVersionDelete   Action = "object-delete-version"
	ActionMultipartUpload Action = "multipart"
)

// Resource is what an action applies to (empty fields do not apply).
type Resource struct {
	BucketID  string
	Key       string
	VersionID string
	UploadID  string
}

// PermissionFunc decides whether a request may perform action on res; a
// non-nil error refuses it with 403 (or 404 when the error matches
// files.ErrNotFound, to hide what exists; 401 for an anonymous
// *access.ForbiddenError, as httperr answers it).
type PermissionFunc func(r *http.Request, action Action, res Resource) error

// Handler serves the Files REST API.
type Handler struct {
	store   *files.Store
	mux     *http.ServeMux
	perm    PermissionFunc
	log     *slog.Logger
	inline  map[string]string // inline media type -> its Content-Type
	offload offload
	policy  func(r *http.Request, o *files.BucketOptions) error
	resolve BucketResolver // see resolver.go
}

type offload struct {
	signedMinSize int64 // > 0: 302 to a signed URL for files this big
	signedExpiry  time.Duration
	accel         func(f *files.FileInstance) string // X-Accel-Redirect path, "" = serve
}

// Option configures a Handler.
type Option func(*Handler)

// WithPermission sets the permission hook (default: allow everything).
func WithPermission(p PermissionFunc) Option { return func(h *Handler) { h.perm = p } }

// WithBucketPolicy lets the host check or rewrite the options of a bucket
// created through the API (the JSON body of POST /: location,
// storage_class, quota, max_file_size, tags) before it is created, e.g. to
// impose a quota; an error refuses the request (403, or its mapped status).
func WithBucketPolicy(fn func(r *http.Request, o *files.BucketOptions) error) Option {
	return func(h *Handler) { h.policy = fn }
}

// WithLogger sets the logger for internal errors (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithInlineTypes replaces the media types served inline (everything else
// is served as application/octet-stream attachment). Default:
// DefaultInlineTypes.
func WithInlineTypes(types ...string) Option {
	return func(h *Handler) {
		h.inline = map[string]string{}
		for _, t := range types {
			if ct := inlineContentType(t); ct != "" {
				h.inline[t] = ct
			}
		}
	}
}

// WithSignedRedirect makes GET answer 302 to a signed URL of the storage
// location (valid for expiry) for files of at least minSize bytes, when the
// location supports signed URLs (others are served directly).
func WithSignedRedirect(minSize int64, expiry time.Duration) Option {
	return func(h *Handler) { h.offload.signedMinSize, h.offload.signedExpiry = max(minSize, 1), expiry }
}

// WithAccelRedirect makes GET answer with an X-Accel-Redirect header (nginx
// internal redirect) to the path fn returns for a file instance, with the
// same safety headers and no body; fn returning "" serves the file itself.
func WithAccelRedirect(fn func(f *files.FileInstance) string) Option {
	return func(h *Handler) { h.offload.accel = fn }
}

// DefaultInlineTypes are the media types served inline: types a browser
// displays without running code.
var DefaultInlineTypes = []string{
	"text/plain", "text/csv", "application/pdf", "application/json",
	"image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff", "image/bmp",
	"audio/mpeg", "audio/ogg", "audio/wav", "audio/webm", "audio/flac",
	"video/mp4", "video/ogg", "video/webm",
}

// New returns the Files REST API handler for store.
func New(store *files.Store, opts ...Option) *Handler {
	h := &Handler{store: store, log: slog.Default(), perm: func(*http.Request, Action, Resource) error { return nil }}
	WithInlineTypes(DefaultInlineTypes...)(h)
	for _, o := range opts {
		o(h)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{$}", h.createBucket)
	mux.HandleFunc("GET /{bucket}", h.getBucket) // GET also matches HEAD
	mux.HandleFunc("GET /{bucket}/{$}", h.getBucket)
	mux.HandleFunc("PUT /{bucket}/{key...}", h.putObject)
	mux.HandleFunc("GET /{bucket}/{key...}", h.getObject)
	mux.HandleFunc("DELETE /{bucket}/{key...}", h.deleteObject)
	mux.HandleFunc("POST /{bucket}/{key...}", h.postObject)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, h.log, errf(http.StatusNotFound, "no such route: %s %s", r.Method, r.URL.Path))
	})
	h.mux = mux
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("fileshttp: panic", "panic", p, "method", r.Method, "path", r.URL.Path)
			writeError(w, r, h.log, errf(http.StatusInternalServerError, "internal error"))
		}
	}()
	if h.resolve != nil {
		h.serveResolved(w, r)
		return
	}
	if p := r.URL.Path; p != "/" && path.Clean(strings.TrimSuffix(p, "/")) != strings.TrimSuffix(p, "/") {
		// ServeMux would answer an unclean path ("a/../b", "a//b") with a
		// redirect that ignores the prefix the handler is mounted under.
		writeError(w, r, h.log, fmt.Errorf("%w: path %q has empty, . or .. segments", files.ErrInvalidKey, p))
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) allow(r *http.Request, a Action, res Resource) error {
	if err := h.perm(r, a, res); err != nil {
		return denied(err)
	}
	return nil
}
