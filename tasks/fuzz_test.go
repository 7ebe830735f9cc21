package tasks_test

import (
	"errors"
	"testing"
	"time"

	"github.com/repokit/repokit/tasks"
)

// FuzzParseSpec: any string either parses into a schedule whose next tick
// is in the future, or fails with ErrBadSchedule; it never panics.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"* * * * *", "*/5 * * * * *", "@hourly", "@every 10s", "@every -1s", "0 0 31 2 *", "61 * * * *", "", "@every 1ns"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := tasks.ParseSpec(spec)
		if err != nil {
			if !errors.Is(err, tasks.ErrBadSchedule) {
				t.Fatalf("ParseSpec(%q) error %v does not wrap ErrBadSchedule", spec, err)
			}
			return
		}
		if next := s.Next(now); !next.IsZero() && !next.After(now) {
			t.Fatalf("ParseSpec(%q).Next(%v) = %v, not after", spec, now, next)
		}
	})
}
