package fileshttp

import (
	"errors"
	"io"
	"mime"
	"net/http"
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
	q := r.URL.Query()
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
	hd.Set("ETag", etag(f))
	hd.Set("X-Version-Id", o.VersionID)
	hd.Set("X-Checksum-SHA256", strings.TrimPrefix(f.SHA256, "sha256:"))
	h.safetyHeaders(hd, o, q.Has("download"))

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

// safetyHeaders sets Content-Type and Content-Disposition so that only
// whitelisted types are displayed inline, plus nosniff and a CSP that
// forbids active content.
func (h *Handler) safetyHeaders(hd http.Header, o *files.Object, download bool) {
	mt := o.Mimetype
	base, params, err := mime.ParseMediaType(mt)
	inline := err == nil && h.inline[base]
	ct := "application/octet-stream"
	if inline {
		ct = mime.FormatMediaType(base, params)
		if strings.HasPrefix(base, "text/") && params["charset"] == "" {
			ct = mime.FormatMediaType(base, map[string]string{"charset": "utf-8"})
		}
	}
	disposition := "inline"
	if !inline || download {
		disposition = "attachment"
	}
	name := path.Base(o.Key)
	hd.Set("Content-Type", ct)
	if cd := mime.FormatMediaType(disposition, map[string]string{"filename": name}); cd != "" {
		hd.Set("Content-Disposition", cd)
	} else {
		hd.Set("Content-Disposition", disposition)
	}
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'")
	hd.Set("X-Frame-Options", "deny")
	hd.Set("Cache-Control", "private, max-age=0, must-revalidate")
}
