package main

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/tasks"
)

func etag(rev int64) string { return `"` + strconv.FormatInt(rev, 10) + `"` }

// ifMatch returns the revision named by If-Match, -1 if absent.
func ifMatch(r *http.Request) (int64, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" {
		return -1, nil
	}
	v = strings.Trim(strings.TrimPrefix(v, "W/"), `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, records.ErrConflict // names no revision we ever issued
	}
	return n, nil
}

// redirectPID answers 301 for a redirected PID; it reports whether it did.
func (a *App) redirectPID(w http.ResponseWriter, r *http.Request, err error, prefix, suffix string) bool {
	var re *pid.RedirectedError
	if !errors.As(err, &re) || re.Target == nil || re.Target.Type != pid.RecidType {
		return false
	}
	u := prefix + url.PathEscape(re.Target.Value) + suffix
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, u, http.StatusMovedPermanently)
	return true
}

// readable resolves a recid for a read by the request's actor: a record the
// actor may not read is reported as missing.
func (a *App) readable(w http.ResponseWriter, r *http.Request, prefix, suffix string) (*records.Record, *stored, bool) {
	rec, s, err := a.resolve(r.Context(), r.PathValue("pid"))
	if err == nil && !actorOf(r.Context()).canRead(s) {
		err = records.ErrNotFound
	}
	if err != nil {
		if !a.redirectPID(w, r, err, prefix, suffix) {
			a.writeError(w, r, err)
		}
		return nil, nil, false
	}
	return rec, s, true
}

func (a *App) apiCreate(w http.ResponseWriter, r *http.Request) {
	u, err := userOrErr(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	in, err := inputFromJSON(body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	rec, s, err := a.createRecord(r.Context(), in, u)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(rec.Revision))
	w.Header().Set("Location", a.cfg.BaseURL+"/api/records/"+s.ID)
	writeJSON(w, http.StatusCreated, visibleTo(actorOf(r.Context()), publicRecord(a.cfg.BaseURL, rec, s)))
}

func (a *App) apiGet(w http.ResponseWriter, r *http.Request) {
	rec, s, ok := a.readable(w, r, "/api/records/", "")
	if !ok {
		return
	}
	tag := etag(rec.Revision)
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", "no-cache")
	if r.Header.Get("If-None-Match") == tag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, visibleTo(actorOf(r.Context()), publicRecord(a.cfg.BaseURL, rec, s)))
}

func (a *App) apiUpdate(w http.ResponseWriter, r *http.Request) {
	rec, s, rev, ok := a.apiEditable(w, r)
	if !ok {
		return
	}
	if rev < 0 {
		rev = rec.Revision
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	in, err := inputFromJSON(body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out, ns, err := a.updateRecord(r.Context(), rec, s, in, rev)
	if err != nil {
		a.writeError(w, r, precondition(err))
		return
	}
	w.Header().Set("ETag", etag(out.Revision))
	writeJSON(w, http.StatusOK, visibleTo(actorOf(r.Context()), publicRecord(a.cfg.BaseURL, out, ns)))
}

// apiEditable resolves the record of an API update or delete: readable by the
// caller, editable by them, with the If-Match revision (-1 without one).
// It has answered the request when ok is false.
func (a *App) apiEditable(w http.ResponseWriter, r *http.Request) (rec *records.Record, s *stored, rev int64, ok bool) {
	rec, s, ok = a.readable(w, r, "/api/records/", "")
	if !ok {
		return nil, nil, 0, false
	}
	if !actorOf(r.Context()).canEdit(s) {
		a.writeError(w, r, forbiddenOrAuth(r))
		return nil, nil, 0, false
	}
	rev, err := ifMatch(r)
	if err != nil {
		a.writeError(w, r, precondition(err))
		return nil, nil, 0, false
	}
	return rec, s, rev, true
}

func forbiddenOrAuth(r *http.Request) error {
	if actorOf(r.Context()).User == nil {
		return errUnauthenticated
	}
	return errForbidden
}

func (a *App) apiDelete(w http.ResponseWriter, r *http.Request) {
	rec, s, rev, ok := a.apiEditable(w, r)
	if !ok {
		return
	}
	if err := a.deleteRecord(r.Context(), rec, s, rev); err != nil {
		a.writeError(w, r, precondition(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *App) apiRevisions(w http.ResponseWriter, r *http.Request) {
	rec, s, ok := a.readable(w, r, "/api/records/", "/revisions")
	if !ok {
		return
	}
	if !actorOf(r.Context()).canEdit(s) {
		a.writeError(w, r, forbiddenOrAuth(r))
		return
	}
	revs, err := a.records.Revisions(r.Context(), rec.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(revs))
	for _, rv := range revs {
		rs, err := decodeStored(&records.Record{JSON: rv.JSON})
		if err != nil {
			continue
		}
		out = append(out, map[string]any{
			"revision_id": rv.Revision, "op": rv.Op, "deleted": rv.Deleted,
			"committed": rv.Committed, "metadata": rs.Metadata, "access": rs.Access,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"hits": map[string]any{"hits": out, "total": len(out)}})
}

// runSearch runs a user search from URL parameters for the request's actor.
func (a *App) runSearch(r *http.Request) (*search.Request, *search.Results, error) {
	req, err := search.RequestFromValues(r.URL.Query(), a.searcher.FacetNames()...)
	if err != nil {
		return nil, nil, err
	}
	if req.Facets != nil {
		// The UI shows "access" values as they are indexed.
		for k, v := range req.Facets {
			if len(v) == 0 {
				delete(req.Facets, k)
			}
		}
	}
	res, err := a.searcher.Search(r.Context(), req)
	return req, res, err
}

func (a *App) apiSearch(w http.ResponseWriter, r *http.Request) {
	req, res, err := a.runSearch(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	act := actorOf(r.Context())
	hits := make([]any, 0, len(res.Hits))
	for _, h := range res.Hits {
		var m map[string]any
		if err := jsonUnmarshal(h.Source, &m); err != nil {
			a.writeError(w, r, err)
			return
		}
		hits = append(hits, visibleTo(act, m))
	}
	aggs := map[string]any{}
	for name, f := range res.Facets {
		bs := make([]map[string]any, 0, len(f.Buckets))
		for _, b := range f.Buckets {
			bs = append(bs, map[string]any{"key": b.Key, "doc_count": b.Count})
		}
		aggs[name] = map[string]any{"buckets": bs}
	}
	size := req.Size
	if size == 0 {
		size = 10
	}
	page := max(req.Page, 1)
	links := map[string]string{"self": a.cfg.BaseURL + "/api/records?" + r.URL.RawQuery}
	q := r.URL.Query()
	if int64(page*size) < res.Total && req.After == "" {
		q.Set("page", strconv.Itoa(page+1))
		links["next"] = a.cfg.BaseURL + "/api/records?" + q.Encode()
	}
	if page > 1 && req.After == "" {
		q.Set("page", strconv.Itoa(page-1))
		links["prev"] = a.cfg.BaseURL + "/api/records?" + q.Encode()
	}
	if res.Next != "" && len(res.Hits) == size {
		c := r.URL.Query()
		c.Del("page")
		c.Set("after", res.Next)
		links["next_cursor"] = a.cfg.BaseURL + "/api/records?" + c.Encode()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"hits":         map[string]any{"hits": hits, "total": res.Total},
		"aggregations": aggs,
		"sortBy":       req.Sort,
		"links":        links,
	})
}

func (a *App) apiMe(w http.ResponseWriter, r *http.Request) {
	u, err := userOrErr(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// Exports: an admin starts a background export; its progress is polled from
// the cache and its result from the task store.

func (a *App) apiExportStart(w http.ResponseWriter, r *http.Request) {
	act := actorOf(r.Context())
	if !act.privileged() {
		a.writeError(w, r, forbiddenOrAuth(r))
		return
	}
	id, err := a.tasks.Enqueue(r.Context(), taskExport, exportArgs{Requester: act.User.ID}, tasks.Queue(queueDefault), tasks.Timeout(0))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	sid := strconv.FormatInt(id, 10)
	writeJSON(w, http.StatusAccepted, map[string]any{"id": sid, "links": map[string]string{"self": a.cfg.BaseURL + "/api/exports/" + sid}})
}

func (a *App) exportID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	if !actorOf(r.Context()).privileged() {
		a.writeError(w, r, forbiddenOrAuth(r))
		return 0, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		a.writeError(w, r, tasks.ErrNotFound)
		return 0, false
	}
	return id, true
}

func (a *App) apiExportGet(w http.ResponseWriter, r *http.Request) {
	id, ok := a.exportID(w, r)
	if !ok {
		return
	}
	info, err := a.tasks.Get(r.Context(), id)
	if err != nil || info.Type != taskExport {
		a.writeError(w, r, tasks.ErrNotFound)
		return
	}
	out := map[string]any{"id": strconv.FormatInt(id, 10), "state": info.State}
	if p, err := cache.GetJSON[ExportProgress](r.Context(), a.cache.Namespace("progress"), exportKey(id)); err == nil {
		out["progress"] = p
	}
	if info.State == tasks.StateCompleted {
		if res, err := tasks.ResultAs[ExportProgress](r.Context(), a.tasks, id); err == nil {
			out["result"] = res
			out["links"] = map[string]string{"file": a.cfg.BaseURL + "/api/exports/" + strconv.FormatInt(id, 10) + "/file"}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *App) apiExportFile(w http.ResponseWriter, r *http.Request) {
	id, ok := a.exportID(w, r)
	if !ok {
		return
	}
	res, err := tasks.ResultAs[ExportProgress](r.Context(), a.tasks, id)
	if err != nil || res.File == "" {
		a.writeError(w, r, tasks.ErrNotFound)
		return
	}
	f, err := os.Open(filepath.Join(a.exportDir(), filepath.Base(res.File)))
	if err != nil {
		a.writeError(w, r, tasks.ErrNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filepath.Base(res.File)+`"`)
	st, _ := f.Stat()
	http.ServeContent(w, r, "", st.ModTime(), f)
}
