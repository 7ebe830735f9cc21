package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

// TestRun runs the tour on every database and checks what it prints.
func TestRun(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		var out bytes.Buffer
		if err := run(context.Background(), sqldbtest.FreshURL(t, d), &out); err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
		got := out.String()
		for _, want := range []string{
			"1. Created record",
			"with recid 1\n",
			"revision 0, created",
			`{"creators":["Einstein, Albert"],"id":"1","title":"Relativity","year":1905}`,
			"2.2 Updated it\n   revision 2",
			`"title":"Relativity, special and general","year":1916`,
			"An update naming revision 0 is refused: records: conflict",
			"     /title: ",
			"     /year: ",
			"revision 1  update",
			"revision 2  update",
			"5. Reverted to revision 0\n   revision 3",
			"6. recid 1 resolves to record",
			"at revision 3",
		} {
			if !strings.Contains(got, want) {
				t.Fatalf("output lacks %q:\n%s", want, got)
			}
		}
		// After the revert the current document is revision 0's again.
		after := got[strings.Index(got, "5. Reverted"):]
		if !strings.Contains(after, `"title":"Relativity","year":1905`) {
			t.Fatalf("revert did not bring revision 0 back:\n%s", after)
		}
	})
}
