package fileshttp

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/repokit/repokit/files"
)

// bucketRequest is the optional JSON body of POST / (create bucket).
type bucketRequest struct {
	Location     string            `json:"location"`
	StorageClass string            `json:"storage_class"`
	Quota        int64             `json:"quota"`
	MaxFileSize  int64             `json:"max_file_size"`
	Tags         map[string]string `json:"tags"`
}

func (h *Handler) createBucket(w http.ResponseWriter, r *http.Request) {
	if err := h.allow(r, ActionBucketCreate, Resource{}); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	var req bucketRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, r, h.log, errf(http.StatusBadRequest, "read body: %v", err))
		return
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, r, h.log, errf(http.StatusBadRequest, "bad bucket JSON: %v", err))
			return
		}
	}
	opts := files.BucketOptions{Location: req.Location, StorageClass: req.StorageClass,
		Quota: req.Quota, MaxFileSize: req.MaxFileSize, Tags: req.Tags}
	if h.policy != nil {
		if err := h.policy(r, &opts); err != nil {
			writeError(w, r, h.log, denied(err))
			return
		}
	}
	b, err := h.store.CreateBucket(r.Context(), opts)
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	w.Header().Set("Location", b.ID)
	writeJSON(w, http.StatusCreated, bucketJSON(b))
}

type bucketDoc struct {
	ID           string            `json:"id"`
	Size         int64             `json:"size"`
	Quota        int64             `json:"quota,omitempty"`
	MaxFileSize  int64             `json:"max_file_size,omitempty"`
	Locked       bool              `json:"locked"`
	StorageClass string            `json:"storage_class"`
	Tags         map[string]string `json:"tags,omitempty"`
	Created      string            `json:"created"`
	Updated      string            `json:"updated"`
}

func bucketJSON(b *files.Bucket) bucketDoc {
	return bucketDoc{ID: b.ID, Size: b.Size, Quota: b.Quota, MaxFileSize: b.MaxFileSize, Locked: b.Locked,
		StorageClass: b.StorageClass, Tags: b.Tags, Created: b.Created.Format(timeFormat), Updated: b.Updated.Format(timeFormat)}
}

const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

// bucket reads a bucket that is visible through the API (not soft-deleted).
func (h *Handler) bucket(r *http.Request, id string) (*files.Bucket, error) {
	b, err := h.store.Bucket(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if b.Deleted {
		return nil, errf(http.StatusNotFound, "bucket %s not found", id)
	}
	return b, nil
}

func (h *Handler) getBucket(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("bucket")
	q := r.URL.Query()
	action := ActionBucketRead
	switch {
	case q.Has("uploads"):
		action = ActionBucketUploads
	case q.Has("versions"):
		action = ActionBucketVersions
	}
	if err := h.allow(r, action, Resource{BucketID: id}); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	b, err := h.bucket(r, id)
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	w.Header().Set("X-Bucket-Size", strconv.FormatInt(b.Size, 10))
	if b.Quota > 0 {
		w.Header().Set("X-Bucket-Quota", strconv.FormatInt(b.Quota, 10))
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		return
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 0 {
			writeError(w, r, h.log, errf(http.StatusBadRequest, "bad limit %q", v))
			return
		}
	}
	if action == ActionBucketUploads {
		page, err := h.store.ListUploads(r.Context(), id, files.UploadListOptions{Prefix: q.Get("prefix"),
			Cursor: q.Get("cursor"), Limit: limit})
		if err != nil {
			writeError(w, r, h.log, err)
			return
		}
		docs := make([]uploadDoc, 0, len(page.Uploads))
		for _, u := range page.Uploads {
			docs = append(docs, uploadJSON(u))
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": b.ID, "uploads": docs, "next": page.Next})
		return
	}
	page, err := h.store.List(r.Context(), id, files.ListOptions{Versions: action == ActionBucketVersions,
		Prefix: q.Get("prefix"), Cursor: q.Get("cursor"), Limit: limit})
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	docs := make([]objectDoc, 0, len(page.Objects))
	for _, o := range page.Objects {
		docs = append(docs, objectJSON(o))
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": b.ID, "size": b.Size, "quota": b.Quota, "locked": b.Locked,
		"contents": docs, "next": page.Next})
}
