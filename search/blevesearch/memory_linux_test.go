//go:build linux

package blevesearch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/testenv"
	"github.com/repokit/repokit/search"
)

// mappedRSS is the resident size of the process's mappings of files under
// dir, from /proc/self/smaps.
func mappedRSS(t *testing.T, dir string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	var total int64
	in := false
	for _, l := range strings.Split(string(b), "\n") {
		fs := strings.Fields(l)
		if len(fs) >= 5 && strings.Contains(fs[0], "-") && !strings.HasSuffix(fs[0], ":") {
			in = len(fs) >= 6 && strings.HasPrefix(fs[5], dir+"/")
			continue
		}
		if in && len(fs) >= 2 && fs[0] == "Rss:" {
			kb, _ := strconv.ParseInt(fs[1], 10, 64)
			total += kb << 10
		}
	}
	return total
}

// TestReleaseResident reads every document of an index (which maps the
// pages of its segment files into the process) and checks that
// ReleaseResident drops those pages from the resident set while the
// documents stay readable.
func TestReleaseResident(t *testing.T) {
	ctx := context.Background()
	dir, err := filepath.EvalSymlinks(t.TempDir()) // smaps shows resolved paths
	if err != nil {
		t.Fatal(err)
	}
	_, ix, d := openTomb(t, dir, "")
	const n = 3000
	filler := strings.Repeat("lorem ipsum dolor sit amet ", 80)
	var ops []search.Op
	for i := range n {
		src, _ := json.Marshal(map[string]any{"title": fmt.Sprintf("record %d %s", i, filler), "kind": "k" + strconv.Itoa(i%3)})
		ops = append(ops, search.Op{Kind: search.OpIndex, ID: tombID(i), Revision: 1, Source: src})
		if len(ops) == 500 {
			bulk(t, ix, ops)
			ops = nil
		}
	}
	readAll := func() {
		t.Helper()
		seen := 0
		for r, err := range ix.Refs(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			res, err := ix.Query(ctx, &search.Spec{Query: search.IDs{Values: []string{r.ID}}, Size: 1})
			if err != nil || len(res.Hits) != 1 || len(res.Hits[0].Source) < len(filler) {
				t.Fatalf("document %s: %v %+v", r.ID, err, res)
			}
			seen++
		}
		if seen != n {
			t.Fatalf("read %d documents, want %d", seen, n)
		}
	}
	readAll()
	before := mappedRSS(t, dir)
	if before < 1<<20 {
		t.Fatalf("reading %d documents left only %d bytes of the index mapped: the test does not exercise the release", n, before)
	}
	var after int64
	testenv.Within(t, 10*time.Second, "the index's mapped pages released", func() bool {
		if err := d.ReleaseResident(ctx, "t"); err != nil {
			t.Fatal(err)
		}
		after = mappedRSS(t, dir)
		return after <= before/10
	})
	t0 := time.Now()
	const calls = 100
	for range calls {
		if err := d.ReleaseResident(ctx, "t"); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("index pages resident: %d KiB after reading every document, %d KiB after ReleaseResident (%v per call)",
		before>>10, after>>10, time.Since(t0)/calls)
	readAll() // still readable: the pages come back from the page cache
}
