package fileshttp

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/repokit/repokit/files"
)

// objectDoc is the JSON form of an object version.
type objectDoc struct {
	Key          string            `json:"key"`
	VersionID    string            `json:"version_id"`
	IsHead       bool              `json:"is_head"`
	DeleteMarker bool              `json:"delete_marker,omitempty"`
	Size         int64             `json:"size"`
	Mimetype     string            `json:"mimetype,omitempty"`
	Checksum     string            `json:"checksum,omitempty"`
	SHA256       string            `json:"sha256,omitempty"`
	FileID       string            `json:"file_id,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
	Created      string            `json:"created"`
	Updated      string            `json:"updated"`
}

func objectJSON(o *files.Object) objectDoc {
	d := objectDoc{Key: o.Key, VersionID: o.VersionID, IsHead: o.IsHead, DeleteMarker: o.DeleteMarker(),
		Mimetype: o.Mimetype, Tags: o.Tags, Created: o.Created.Format(timeFormat), Updated: o.Updated.Format(timeFormat)}
	if o.File != nil {
		d.Size, d.Checksum, d.SHA256, d.FileID = o.File.Size, o.File.MD5, o.File.SHA256, o.File.ID
	}
	return d
}

func (h *Handler) putObject(w http.ResponseWriter, r *http.Request) {
	bucket, key := r.PathValue("bucket"), r.PathValue("key")
	q := r.URL.Query()
	if q.Has("uploadId") {
		h.uploadPart(w, r, bucket, key)
		return
	}
	if err := files.ValidateKey(key); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if err := h.allow(r, ActionObjectWrite, Resource{BucketID: bucket, Key: key}); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if _, err := h.bucket(r, bucket); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	opts := files.PutOptions{ContentMD5: r.Header.Get("Content-MD5")}
	if r.ContentLength > 0 {
		opts.Size = r.ContentLength
	}
	if mt := q.Get("mimetype"); mt != "" {
		// An explicit media type; otherwise it is guessed from the key.
		if _, _, err := mime.ParseMediaType(mt); err != nil || len(mt) > 255 {
			writeError(w, r, h.log, errf(http.StatusBadRequest, "bad mimetype %q", mt))
			return
		}
		opts.Mimetype = mt
	}
	opts.StorageClass = q.Get("storageClass")
	tags, err := parseTags(r.Header.Values("X-Object-Tag"))
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	opts.Tags = tags
	o, err := h.store.Put(r.Context(), bucket, key, r.Body, opts)
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	w.Header().Set("ETag", etag(o.File))
	writeJSON(w, http.StatusOK, objectJSON(o))
}

func (h *Handler) deleteObject(w http.ResponseWriter, r *http.Request) {
	bucket, key := r.PathValue("bucket"), r.PathValue("key")
	q := r.URL.Query()
	if q.Has("uploadId") {
		h.abortUpload(w, r, bucket, key)
		return
	}
	if err := files.ValidateKey(key); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if _, err := h.bucket(r, bucket); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if vid := q.Get("versionId"); vid != "" {
		if err := h.allow(r, ActionVersionDelete, Resource{BucketID: bucket, Key: key, VersionID: vid}); err != nil {
			writeError(w, r, h.log, err)
			return
		}
		if err := h.store.DeleteVersion(r.Context(), bucket, key, vid); err != nil {
			writeError(w, r, h.log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := h.allow(r, ActionObjectDelete, Resource{BucketID: bucket, Key: key}); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	// Deleting a key that is absent or already deleted succeeds without
	// writing a marker (as on S3): a client retrying a DELETE whose answer
	// it lost sees the same 204, and absent and deleted keys look alike.
	if _, err := h.store.Delete(r.Context(), bucket, key); err != nil && !errors.Is(err, files.ErrNotFound) {
		writeError(w, r, h.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) postObject(w http.ResponseWriter, r *http.Request) {
	bucket, key := r.PathValue("bucket"), r.PathValue("key")
	q := r.URL.Query()
	switch {
	case q.Has("uploads"):
		h.initUpload(w, r, bucket, key)
	case q.Has("uploadId"):
		h.completeUpload(w, r, bucket, key)
	case q.Get("versionId") != "":
		h.restoreVersion(w, r, bucket, key, q.Get("versionId"))
	default:
		writeError(w, r, h.log, errf(http.StatusBadRequest, "POST on an object needs ?uploads, ?uploadId= or ?versionId="))
	}
}

// restoreVersion: POST /{bucket}/{key}?versionId= makes a copy of that
// version the new head (409 for a delete marker).
func (h *Handler) restoreVersion(w http.ResponseWriter, r *http.Request, bucket, key, vid string) {
	if err := files.ValidateKey(key); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if err := h.allow(r, ActionObjectWrite, Resource{BucketID: bucket, Key: key, VersionID: vid}); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if _, err := h.bucket(r, bucket); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	o, err := h.store.Restore(r.Context(), bucket, key, vid)
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	w.Header().Set("ETag", etag(o.File))
	writeJSON(w, http.StatusOK, objectJSON(o))
}

// parseTags reads "X-Object-Tag: key=value" headers (value URL-encoded).
func parseTags(hs []string) (map[string]string, error) {
	if len(hs) == 0 {
		return nil, nil
	}
	tags := map[string]string{}
	for _, h := range hs {
		for _, kv := range strings.Split(h, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || k == "" {
				return nil, errf(http.StatusBadRequest, "bad X-Object-Tag %q: want key=value", kv)
			}
			key, err1 := url.QueryUnescape(k)
			val, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil {
				return nil, errf(http.StatusBadRequest, "bad X-Object-Tag %q: bad escape", kv)
			}
			tags[key] = val
		}
	}
	return tags, nil
}
