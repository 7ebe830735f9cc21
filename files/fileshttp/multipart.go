package fileshttp

import (
	"net/http"
	"strconv"

	"github.com/repokit/repokit/files"
)

type uploadDoc struct {
	ID       string `json:"id"`
	Key      string `json:"key"`
	Size     int64  `json:"size"`
	PartSize int64  `json:"part_size"`
	Parts    int    `json:"parts"`
	Status   string `json:"status"`
	Created  string `json:"created"`
	Updated  string `json:"updated"`
}

func uploadJSON(u *files.Upload) uploadDoc {
	return uploadDoc{ID: u.ID, Key: u.Key, Size: u.Size, PartSize: u.PartSize, Parts: u.PartCount(), Status: u.Status,
		Created: u.Created.Format(timeFormat), Updated: u.Updated.Format(timeFormat)}
}

func int64Param(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, errf(http.StatusBadRequest, "query parameter %s=%q must be a positive integer", name, v)
	}
	return n, nil
}

// initUpload: POST /{bucket}/{key}?uploads&size=&partSize=
func (h *Handler) initUpload(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if err := files.ValidateKey(key); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if err := h.allow(r, ActionMultipartUpload, Resource{BucketID: bucket, Key: key}); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	size, err := int64Param(r, "size")
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	partSize, err := int64Param(r, "partSize")
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if _, err := h.bucket(r, bucket); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	u, err := h.store.InitUpload(r.Context(), bucket, key, size, partSize, files.UploadOptions{StorageClass: r.URL.Query().Get("storageClass")})
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, uploadJSON(u))
}

// uploadPart: PUT /{bucket}/{key}?uploadId=&partNumber=
func (h *Handler) uploadPart(w http.ResponseWriter, r *http.Request, bucket, key string) {
	id := r.URL.Query().Get("uploadId")
	if err := h.allow(r, ActionMultipartUpload, Resource{BucketID: bucket, Key: key, UploadID: id}); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	n, err := int64Param(r, "partNumber")
	if err != nil || n > files.MaxParts {
		writeError(w, r, h.log, errf(http.StatusBadRequest, "partNumber must be within 1..%d", files.MaxParts))
		return
	}
	if _, err := h.bucket(r, bucket); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	p, err := h.store.UploadPart(r.Context(), bucket, key, id, int(n), r.Body, max(r.ContentLength, 0), r.Header.Get("Content-MD5"))
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	w.Header().Set("ETag", `"`+p.Checksum+`"`)
	writeJSON(w, http.StatusOK, p)
}

// listParts: GET /{bucket}/{key}?uploadId=
func (h *Handler) listParts(w http.ResponseWriter, r *http.Request, bucket, key string) {
	id := r.URL.Query().Get("uploadId")
	if err := h.allow(r, ActionMultipartUpload, Resource{BucketID: bucket, Key: key, UploadID: id}); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if _, err := h.bucket(r, bucket); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	u, err := h.store.Upload(r.Context(), bucket, key, id)
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	parts, err := h.store.ListParts(r.Context(), bucket, key, id)
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if parts == nil {
		parts = []files.Part{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"upload": uploadJSON(u), "parts": parts})
}

// completeUpload: POST /{bucket}/{key}?uploadId=
func (h *Handler) completeUpload(w http.ResponseWriter, r *http.Request, bucket, key string) {
	id := r.URL.Query().Get("uploadId")
	if err := h.allow(r, ActionMultipartUpload, Resource{BucketID: bucket, Key: key, UploadID: id}); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if _, err := h.bucket(r, bucket); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	o, err := h.store.CompleteUpload(r.Context(), bucket, key, id)
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	w.Header().Set("ETag", etag(o.File))
	writeJSON(w, http.StatusOK, objectJSON(o))
}

// abortUpload: DELETE /{bucket}/{key}?uploadId=
func (h *Handler) abortUpload(w http.ResponseWriter, r *http.Request, bucket, key string) {
	id := r.URL.Query().Get("uploadId")
	if err := h.allow(r, ActionMultipartUpload, Resource{BucketID: bucket, Key: key, UploadID: id}); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if _, err := h.bucket(r, bucket); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if err := h.store.AbortUpload(r.Context(), bucket, key, id); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
