package fileshttp

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/repokit/repokit"
	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/httperr"
)

// A refusal of the permission function matches repokit.ErrForbidden
// whatever error the function returned, keeps that error for logs, and
// keeps the status it already had.
func TestDeniedIsForbidden(t *testing.T) {
	reason := errors.New("internal reason")
	for _, c := range []struct {
		err    error
		status int
	}{
		{reason, http.StatusForbidden},
		{&access.ForbiddenError{Action: access.ReadFiles, Anonymous: true}, http.StatusUnauthorized},
		{httperr.WithPublic(reason, http.StatusUnauthorized, "sign in"), http.StatusUnauthorized},
		{files.ErrLocked, http.StatusForbidden},
	} {
		err := denied(c.err)
		if !errors.Is(err, repokit.ErrForbidden) || !errors.Is(err, c.err) {
			t.Errorf("denied(%v) = %v: not forbidden or lost the cause", c.err, err)
		}
		if got := httperr.Status(err); got != c.status {
			t.Errorf("denied(%v): status %d, want %d", c.err, got, c.status)
		}
	}
	if err := denied(fmt.Errorf("no bucket: %w", files.ErrNotFound)); httperr.Status(err) != http.StatusNotFound {
		t.Errorf("not found: status %d", httperr.Status(err))
	}
}
