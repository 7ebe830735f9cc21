package files

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseSQLiteTime: the fast timestamp parser agrees with
// time.ParseInLocation for the layout Store.ts writes, or declines.
func FuzzParseSQLiteTime(f *testing.F) {
	for _, s := range []string{"2026-11-30 06:01:53.671645", "2026-11-30 06:01:53", "2026-02-29 00:00:00",
		"2024-02-29 23:59:59.9", "2026-13-01 00:00:00", "2026-11-30 24:00:00", "2026-11-30 06:01:53.", "2026-11-30 06:01:53.1234567891",
		"2026-11-30T06:01:53", "0000-01-01 00:00:00", "2026-11-30 06:01:53+01:00", "2026-11-31 00:00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseSQLiteTime(s)
		want, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", s, time.UTC)
		if ok && (err != nil || !got.Equal(want) || got.Location() != time.UTC) {
			t.Fatalf("%q: %v, ParseInLocation %v %v", s, got, want, err)
		}
		if !ok && err == nil && len(s) <= 29 && !strings.ContainsAny(s, "+-Z") {
			t.Logf("%q: declined, ParseInLocation accepts %v", s, want)
		}
	})
}
