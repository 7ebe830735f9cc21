package sqldb

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// MigrationsTable records which migrations of which component have run.
const MigrationsTable = "repokit_migrations"

// Migration is one versioned step of a component's schema.
type Migration struct {
	Version    int
	Name       string
	Statements []string
}

// LoadMigrations reads the migrations of one dialect from fsys: files named
// "<dialect>/NNNN_name.sql" (for example "sqlite/0001_init.sql"), where
// statements end with a semicolon at the end of a line.
func LoadMigrations(fsys fs.FS, d Dialect) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, string(d))
	if err != nil {
		return nil, fmt.Errorf("sqldb: migrations for %s: %w", d, err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqldb: migration file %q: want NNNN_name.sql", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("sqldb: migrations %q and %q share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(fsys, path.Join(string(d), e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, Statements: SplitStatements(string(body))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// SplitStatements splits a SQL script on semicolons that end a line,
// dropping comment-only and empty statements.
func SplitStatements(script string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		nonComment := false
		for _, line := range strings.Split(s, "\n") {
			l := strings.TrimSpace(line)
			if l != "" && !strings.HasPrefix(l, "--") {
				nonComment = true
				break
			}
		}
		if nonComment {
			out = append(out, s)
		}
	}
	for _, line := range strings.Split(script, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasSuffix(trimmed, ";") && !strings.HasPrefix(trimmed, "--") {
			cur.WriteString(strings.TrimSuffix(strings.TrimRight(line, " \t\r"), ";"))
			flush()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush()
	return out
}

// Migrate brings component's tables up to the newest migration in fsys. It is
// safe when several processes start at once: migrations run under a database
// lock (pg_advisory_lock on PostgreSQL, GET_LOCK on MySQL, a write
// transaction on SQLite) and each version is applied exactly once. On
// PostgreSQL and SQLite each migration runs in its own transaction; MySQL
// commits DDL implicitly, so there each statement should be idempotent.
func Migrate(ctx context.Context, db *sqlx.DB, component string, fsys fs.FS) error {
	d, err := DialectOf(db)
	if err != nil {
		return err
	}
	migs, err := LoadMigrations(fsys, d)
	if err != nil {
		return err
	}
	conn, err := db.Connx(ctx)
	if err != nil {
		return fmt.Errorf("sqldb: migrate %s: %w", component, err)
	}
	defer conn.Close()

	unlock, err := lockMigrations(ctx, conn, d)
	if err != nil {
		return fmt.Errorf("sqldb: migrate %s: lock: %w", component, err)
	}
	defer unlock()

	if d != SQLite {
		if _, err := conn.ExecContext(ctx, createMigrationsTable(d)); err != nil {
			return fmt.Errorf("sqldb: create %s: %w", MigrationsTable, err)
		}
	}
	for _, m := range migs {
		if err := applyOne(ctx, conn, d, component, m); err != nil {
			return err
		}
	}
	return nil
}

func applyOne(ctx context.Context, conn *sqlx.Conn, d Dialect, component string, m Migration) error {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if d == SQLite {
		// The write lock taken by this transaction serializes migrators.
		if _, err := tx.ExecContext(ctx, createMigrationsTable(d)); err != nil {
			return fmt.Errorf("sqldb: create %s: %w", MigrationsTable, err)
		}
	}
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind("SELECT COUNT(*) FROM "+MigrationsTable+" WHERE component = ? AND version = ?"), component, m.Version); err != nil {
		return fmt.Errorf("sqldb: read %s: %w", MigrationsTable, err)
	}
	if n > 0 {
		return nil
	}
	for i, stmt := range m.Statements {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqldb: migration %s %04d_%s statement %d: %w", component, m.Version, m.Name, i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO "+MigrationsTable+" (component, version, name, applied_at) VALUES (?, ?, ?, ?)"),
		component, m.Version, m.Name, time.Now().UTC()); err != nil {
		return fmt.Errorf("sqldb: record migration %s %d: %w", component, m.Version, err)
	}
	return tx.Commit()
}

func createMigrationsTable(d Dialect) string {
	ts := "TIMESTAMP"
	if d == MySQL {
		ts = "DATETIME(6)"
	}
	return "CREATE TABLE IF NOT EXISTS " + MigrationsTable + ` (
	component VARCHAR(64) NOT NULL,
	version INTEGER NOT NULL,
	name VARCHAR(255) NOT NULL,
	applied_at ` + ts + ` NOT NULL,
	PRIMARY KEY (component, version))`
}

func lockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("repokit:migrations"))
	return int64(h.Sum64() >> 1)
}

func lockMigrations(ctx context.Context, conn *sqlx.Conn, d Dialect) (func(), error) {
	switch d {
	case Postgres:
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockKey()); err != nil {
			return nil, err
		}
		return func() { _, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", lockKey()) }, nil
	case MySQL:
		var got *int
		if err := conn.QueryRowxContext(ctx, "SELECT GET_LOCK('repokit_migrations', 120)").Scan(&got); err != nil {
			return nil, err
		}
		if got == nil || *got != 1 {
			return nil, fmt.Errorf("timed out waiting for GET_LOCK")
		}
		return func() { _, _ = conn.ExecContext(context.Background(), "SELECT RELEASE_LOCK('repokit_migrations')") }, nil
	}
	return func() {}, nil
}
