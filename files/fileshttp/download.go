package fileshttp

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/storage"
)

func etag(f *files.FileInstance) string {
	if f == nil {
		return ""
	}
	return `"` + f.MD5 + `"`
}

func (h *Handler) getObject(w http.ResponseWriter, r *http.Request) {
	bucket, key := r.PathValue("bucket"), r.PathValue("key")
	var q url.Values // nil (every lookup empty) without a query string: no map to make
	if r.URL.RawQuery != "" {
		q = r.URL.Query()
	}
	if q.Has("uploadId") {
		h.listParts(w, r, bucket, key)
		return
	}
	if err := files.ValidateKey(key); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	vid := q.Get("versionId")
	action, res := ActionObjectRead, Resource{BucketID: bucket, Key: key, VersionID: vid}
	if vid != "" {
		action = ActionVersionRead
	}
	if err := h.allow(r, action, res); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	o, err := h.store.Head(r.Context(), bucket, key, vid)
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if o.DeleteMarker() {
		writeError(w, r, h.log, errf(http.StatusNotFound, "version %s of %s is a delete marker", vid, key))
		return
	}
	f := o.File
	hd := w.Header()
	h.objectHeaders(hd, o, q.Has("download"))

	// Offloading: only unconditional full downloads (conditional and range
	// requests are cheap to answer here and keep their semantics exact).
	if h.offload.accel != nil {
		if p := h.offload.accel(f); p != "" {
			hd.Set("X-Accel-Redirect", p)
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	if h.offload.signedMinSize > 0 && f.Size >= h.offload.signedMinSize && r.Method == http.MethodGet &&
		r.Header.Get("Range") == "" && r.Header.Get("If-None-Match") == "" {
		u, err := h.store.SignedURLWith(r.Context(), f, h.offload.signedExpiry, storage.SignedURLOptions{
			ContentType: hd.Get("Content-Type"), ContentDisposition: hd.Get("Content-Disposition")})
		switch {
		case err == nil:
			for _, k := range []string{"Content-Type", "Content-Disposition", "ETag"} {
				hd.Del(k) // they describe the file, not this redirect
			}
			http.Redirect(w, r, u, http.StatusFound)
			return
		case !errors.Is(err, files.ErrUnsupported):
			writeError(w, r, h.log, err)
			return
		}
	}
	rd, err := h.store.Open(r.Context(), o)
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	defer rd.Close()
	var content io.ReadSeeker = rd
	if f := rd.File(); f != nil {
		// file://: ServeContent seeks the file itself and the body goes
		// out with sendfile (no copy through user space, no reopening
		// the file at the range's offset).
		content = f
	}
	http.ServeContent(&jsonErrors{ResponseWriter: w}, r, "", o.Created, content)
}

// The canonical forms of the headers objectHeaders sets.
var (
	hETag        = http.CanonicalHeaderKey("ETag")
	hVersionID   = http.CanonicalHeaderKey("X-Version-Id")
	hChecksum    = http.CanonicalHeaderKey("X-Checksum-SHA256")
	hContentType = http.CanonicalHeaderKey("Content-Type")
	hDisposition = http.CanonicalHeaderKey("Content-Disposition")
	hNoSniff     = http.CanonicalHeaderKey("X-Content-Type-Options")
	hCSP         = http.CanonicalHeaderKey("Content-Security-Policy")
	hFrame       = http.CanonicalHeaderKey("X-Frame-Options")
	hCache       = http.CanonicalHeaderKey("Cache-Control")
)

// objectHeaders sets the headers describing a download of o: ETag,
// version id and checksum, and the safety headers: Content-Type and
// Content-Disposition such that only whitelisted types are displayed
// inline, plus nosniff and a CSP that forbids active content. The values
// share one allocation (each a full slice: appending to one copies it),
// where Header.Set makes a slice per header.
func (h *Handler) objectHeaders(hd http.Header, o *files.Object, download bool) {
	ct, inline := h.contentType(o.Mimetype)
	disposition := "inline"
	if !inline || download {
		disposition = "attachment"
	}
	v := &[9]string{etag(o.File), o.VersionID, strings.TrimPrefix(o.File.SHA256, "sha256:"), ct,
		contentDisposition(disposition, path.Base(o.Key)), "nosniff", "default-src 'none'", "deny",
		"private, max-age=0, must-revalidate"}
	for i, k := range [...]string{hETag, hVersionID, hChecksum, hContentType, hDisposition, hNoSniff, hCSP, hFrame, hCache} {
		hd[k] = v[i : i+1 : i+1]
	}
}

// contentType returns the Content-Type a file of media type mt is served
// with, and whether it is served inline (its type is whitelisted): the
// type itself (text with charset utf-8 unless it names one), else
// application/octet-stream. A plain lowercase "type/subtype", what
// mime.ParseMediaType would return unchanged, is looked up directly.
func (h *Handler) contentType(mt string) (string, bool) {
	if isPlainMediaType(mt) {
		if ct, ok := h.inline[mt]; ok {
			return ct, true
		}
		return "application/octet-stream", false
	}
	base, params, err := mime.ParseMediaType(mt)
	if err != nil {
		return "application/octet-stream", false
	}
	ct, ok := h.inline[base]
	if !ok {
		return "application/octet-stream", false
	}
	if len(params) == 0 || strings.HasPrefix(base, "text/") && params["charset"] == "" {
		return ct, true // the inline type's own form (text: charset utf-8)
	}
	return mime.FormatMediaType(base, params), true
}

// inlineContentType is the Content-Type of inline type t without
// parameters (text gets charset utf-8).
func inlineContentType(t string) string {
	if strings.HasPrefix(t, "text/") {
		return mime.FormatMediaType(t, map[string]string{"charset": "utf-8"})
	}
	return mime.FormatMediaType(t, nil)
}

// contentDisposition is mime.FormatMediaType(disposition, filename=name),
// without its map and builder when name is a token (written as is).
func contentDisposition(disposition, name string) string {
	if isToken(name) {
		return disposition + "; filename=" + name
	}
	if cd := mime.FormatMediaType(disposition, map[string]string{"filename": name}); cd != "" {
		return cd
	}
	return disposition
}

// isPlainMediaType reports whether mt is "type/subtype" in lowercase token
// characters, without parameters.
func isPlainMediaType(mt string) bool {
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || !isToken(typ) || !isToken(sub) {
		return false
	}
	for i := 0; i < len(mt); i++ {
		if 'A' <= mt[i] && mt[i] <= 'Z' {
			return false
		}
	}
	return true
}

// isToken reports whether s is a non-empty RFC 2045 token (as package mime
// defines it: printable ASCII but space and tspecials).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}
