package httperr_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/httperr"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/tasks"
)

func TestStatusAndMessage(t *testing.T) {
	const id = "01a2b3c4-0000-7000-8000-000000000001"
	cases := []struct {
		err    error
		status int
		msg    string
	}{
		// The issue's layer chain: deleted record behind a deleted recid.
		{fmt.Errorf("%w: recid:8: %w: record %s", pid.ErrDeleted, records.ErrDeleted, id), 410, "this record has been deleted"},
		{fmt.Errorf("records: get %s: %w", id, records.ErrDeleted), 410, "this record has been deleted"},
		{fmt.Errorf("%w: record %s", records.ErrNotFound, id), 404, "not found"},
		{fmt.Errorf("%w: bucket %s", files.ErrNotFound, id), 404, "not found"},
		{fmt.Errorf("storage: open files/ab/cd/%s: %w", id, storage.ErrNotFound), 404, "not found"},
		{fmt.Errorf("%w: recid:9", pid.ErrNotFound), 404, "not found"},
		{search.ErrNotFound, 404, "not found"},
		{tasks.ErrNotFound, 404, "not found"},
		{fmt.Errorf("%w: record %s at revision 3, not 2", records.ErrConflict, id), 409, "the request conflicts with the current state (reload and retry)"},
		{pid.ErrExists, 409, "the request conflicts with the current state (reload and retry)"},
		{fmt.Errorf("%w (10 + 5 > 12 bytes)", files.ErrQuotaExceeded), 413, "the bucket's quota would be exceeded"},
		{fmt.Errorf("%w: 11 bytes, limit 10", records.ErrTooLarge), 413, "too large"},
		{fmt.Errorf("%w: %s", files.ErrLocked, id), 403, "the files of this record are locked"},
		{fmt.Errorf("%w: not a JSON object", records.ErrInvalid), 400, "invalid request"},
		{records.ErrNoSchema, 400, `the document must name its "$schema"`},
		{fmt.Errorf(`%w "https://internal/schemas/x.json"`, records.ErrUnknownSchema), 400, `the document's "$schema" is not known here`},
		{fmt.Errorf("%w: key %q", files.ErrInvalidKey, "a/../b"), 400, "invalid file name"},
		{&search.QueryError{Param: "q", Pos: 4, Msg: "unknown field colour"}, 400, "invalid q at position 4: unknown field colour"},
		{tasks.ErrBadArgs, 400, "invalid request"},
		{storage.ErrUnsupported, 501, "not supported by this server"},
		{fmt.Errorf("cache: get: %w", cache.ErrUnavailable), 503, "the service is temporarily unavailable"},
		{context.Canceled, 499, "request canceled"},
		{context.DeadlineExceeded, 504, "the request took too long"},
		{&access.ForbiddenError{Action: access.Update, ResourceType: "record", ResourceID: id}, 403, "you are not allowed to update this record"},
		{&access.ForbiddenError{Action: access.ReadFiles, ResourceType: "record", ResourceID: id, Anonymous: true}, 401, "sign in to read-files this record"},
		{fmt.Errorf("wrapped: %w", access.ErrForbidden), 403, "forbidden"},
		{errors.New(`sqldb: begin: dial tcp 10.0.0.3:5432: parsing time "yesterday" as "2006-01-02"`), 500, "internal server error"},
		{httperr.WithPublic(errors.New("secret detail"), http.StatusTeapot, "no coffee"), http.StatusTeapot, "no coffee"},
		{fmt.Errorf("read body: %w", &http.MaxBytesError{Limit: 10}), 413, "the request body is too large"},
	}
	for _, c := range cases {
		if got := httperr.Status(c.err); got != c.status {
			t.Errorf("Status(%v) = %d, want %d", c.err, got, c.status)
		}
		msg := httperr.PublicMessage(c.err)
		if msg != c.msg {
			t.Errorf("PublicMessage(%v) = %q, want %q", c.err, msg, c.msg)
		}
		for _, leak := range []string{id, "records:", "pid:", "files/", "2006-01-02", "10.0.0.3", "secret"} {
			if strings.Contains(msg, leak) {
				t.Errorf("PublicMessage(%v) = %q leaks %q", c.err, msg, leak)
			}
		}
	}
	if httperr.Status(nil) != 200 || httperr.PublicMessage(nil) != "" {
		t.Error("nil error")
	}
}

func TestWrite(t *testing.T) {
	ve := &records.ValidationError{Schema: "https://internal/x.json", Errors: []records.FieldError{
		{Path: "/metadata/title", Message: "minLength: got 0, want 1"},
		{Path: "", Message: "missing property access"},
		{Path: "/metadata/title", Message: "pattern mismatch"},
	}}
	w := httptest.NewRecorder()
	httperr.Write(w, httptest.NewRequest("PUT", "/api/records/x", nil), nil, fmt.Errorf("records: update: %w", ve))
	if w.Code != 400 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	var b httperr.Body
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	if b.Status != 400 || b.Message != "the document does not match its schema" || len(b.Errors) != 2 ||
		b.Errors[0].Field != "metadata.title" || len(b.Errors[0].Messages) != 2 || b.Errors[1].Field != "" {
		t.Fatalf("body %+v", b)
	}
	if strings.Contains(w.Body.String(), "internal/x.json") {
		t.Fatalf("body leaks the schema URI: %s", w.Body.String())
	}
	w = httptest.NewRecorder()
	httperr.Write(w, httptest.NewRequest("GET", "/", nil), nil, &access.ForbiddenError{Action: access.Read, Anonymous: true})
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("anonymous refusal: %d %v", w.Code, w.Header())
	}
}

func ExampleWrite() {
	w := httptest.NewRecorder()
	err := fmt.Errorf("pid: deleted: recid:8: %w: record 01a2b3c4-0000-7000-8000-000000000001", records.ErrDeleted)
	httperr.Write(w, httptest.NewRequest("GET", "/records/8", nil), nil, err)
	fmt.Print(w.Code, " ", w.Body.String())
	// Output: 410 {"status":410,"message":"this record has been deleted"}
}
