package otelx

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/repokit/repokit"
)

type codeError struct{ code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d", e.code) }

func TestErrorType(t *testing.T) {
	errConflict := repokit.NewError("records: conflict", repokit.ErrConflict)
	errGone := repokit.NewError("records: record is deleted", repokit.ErrDeleted)
	plain := errors.New("plain sentinel")
	for _, tc := range []struct {
		err  error
		want string
	}{
		// A module sentinel wrapped with an id: its own text, not the id.
		{fmt.Errorf("update rec-123: %w", errConflict), "records: conflict"},
		// A sentinel refining a kind is named by itself, not by its kind.
		{fmt.Errorf("get 42: %w", errGone), "records: record is deleted"},
		// A bare kind, including one that refines another (deleted → not found).
		{fmt.Errorf("x: %w", repokit.ErrDeleted), "deleted"},
		{repokit.ErrInvalid, "invalid"},
		// errors.New values and typed errors, as before.
		{fmt.Errorf("wrap: %w", plain), "plain sentinel"},
		{fmt.Errorf("wrap: %w", &codeError{7}), "*otelx.codeError"},
		{&fs.PathError{Op: "open", Path: "/secret/key", Err: fs.ErrNotExist}, "file does not exist"},
	} {
		if got := ErrorType(tc.err); got != tc.want {
			t.Errorf("ErrorType(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestIsSentinel(t *testing.T) {
	s := repokit.NewError("x: bad", repokit.ErrInvalid)
	if !repokit.IsSentinel(s) || !repokit.IsSentinel(repokit.ErrNotFound) {
		t.Fatal("a sentinel or kind is not recognised")
	}
	if repokit.IsSentinel(fmt.Errorf("w: %w", s)) || repokit.IsSentinel(errors.New("x")) || repokit.IsSentinel(nil) {
		t.Fatal("a wrapper, a foreign error or nil is taken for a sentinel")
	}
}
