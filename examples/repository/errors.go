package main

// Error answers of the example. The library's httperr maps every error to a
// status and a message safe to show (no ids, keys or layers) and lists the
// failing fields of a schema failure in Invenio's shape; the example's own
// refusals (errForbidden, errBadJSON, ...) carry their public text with
// httperr.WithPublic. Details go to the log.

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/repokit/repokit/httperr"
	"github.com/repokit/repokit/records"
)

// writeError answers with the JSON error of err (httperr.Body), logging
// server errors with the full error and refusals at debug level.
func (a *App) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if status := httperr.Status(err); status < 500 {
		a.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	httperr.Write(w, r, a.log, err)
}

// precondition turns a revision conflict of a conditional request (If-Match)
// into 412 Precondition Failed, as Invenio answers; httperr gives 409 to
// conflicts in general.
func precondition(err error) error {
	if errors.Is(err, records.ErrConflict) {
		return httperr.WithPublic(err, http.StatusPreconditionFailed, "the record has changed since you read it; read it again")
	}
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}
