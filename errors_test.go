package repokit_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/repokit/repokit"
)

func TestNewErrorMatchesItsKinds(t *testing.T) {
	base := repokit.NewError("pkg: not found", repokit.ErrNotFound)
	gone := repokit.NewError("pkg: deleted", base, repokit.ErrDeleted)
	wrapped := fmt.Errorf("get 42: %w", gone)
	for _, target := range []error{gone, base, repokit.ErrDeleted, repokit.ErrNotFound} {
		if !errors.Is(wrapped, target) {
			t.Errorf("%v does not match %v", wrapped, target)
		}
	}
	for _, target := range []error{repokit.ErrConflict, repokit.NewError("pkg: not found", repokit.ErrNotFound)} {
		if errors.Is(wrapped, target) {
			t.Errorf("%v matches %v", wrapped, target)
		}
	}
	if errors.Is(base, gone) || errors.Is(base, repokit.ErrDeleted) {
		t.Error("a broader sentinel matches a narrower one")
	}
	if gone.Error() != "pkg: deleted" || wrapped.Error() != "get 42: pkg: deleted" {
		t.Errorf("messages %q, %q", gone.Error(), wrapped.Error())
	}
	if repokit.KindOf(wrapped) != repokit.ErrDeleted || repokit.KindOf(base) != repokit.ErrNotFound {
		t.Errorf("KindOf: %v, %v", repokit.KindOf(wrapped), repokit.KindOf(base))
	}
	if repokit.KindOf(errors.New("other")) != nil || repokit.KindOf(nil) != nil || repokit.KindOf(repokit.NewError("x")) != nil {
		t.Error("KindOf of an error without kind")
	}
}

func TestKindsAreDistinct(t *testing.T) {
	kinds := repokit.Kinds()
	for i, a := range kinds {
		if repokit.KindOf(a) != a {
			t.Errorf("KindOf(%v) = %v", a, repokit.KindOf(a))
		}
		for j, b := range kinds {
			if i != j && errors.Is(a, b) && !(a == repokit.ErrDeleted && b == repokit.ErrNotFound) {
				t.Errorf("kind %v matches kind %v", a, b)
			}
		}
	}
}
