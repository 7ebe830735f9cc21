package sqldb_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/repokit/repokit/internal/sqldb"
)

// TestSQLitePaths: the URL forms users write all open the file they mean.
func TestSQLitePaths(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	abs := filepath.Join(dir, "abs.db")
	for url, file := range map[string]string{
		"sqlite://" + abs:          abs,                           // sqlite:///tmp/...
		"sqlite:///" + abs:         abs,                           // four slashes
		"sqlite://rel.db":          filepath.Join(dir, "rel.db"),  // relative to the working directory
		"sqlite://sub/../rel2.db":  filepath.Join(dir, "rel2.db"), // cleaned
		"sqlite3://" + abs + "?x=": abs,
	} {
		db, err := sqldb.Open(ctx, url)
		if err != nil {
			t.Errorf("Open(%s): %v", url, err)
			continue
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS t (x INT)"); err != nil {
			t.Errorf("%s: %v", url, err)
		}
		db.Close()
		if _, err := os.Stat(file); err != nil {
			t.Errorf("Open(%s) did not create %s: %v", url, file, err)
		}
	}
	_, dsn, err := sqldb.DSN("sqlite://rel.db")
	if err != nil || !strings.HasPrefix(dsn, "file:"+filepath.Join(dir, "rel.db")+"?") {
		t.Errorf("relative DSN %q (%v) is not made absolute", dsn, err)
	}
}
