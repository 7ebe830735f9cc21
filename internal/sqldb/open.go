package sqldb

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"           // postgres driver
	_ "github.com/mattn/go-sqlite3" // sqlite3 driver

	"github.com/repokit/repokit/internal/localpath"
)

// Open opens a database from a URL and checks that it answers:
//
//	sqlite:///abs/path/db.sqlite    (also sqlite:////abs/path, sqlite://relative/path.db
//	                                 made absolute against the working directory, sqlite://:memory:)
//	postgres://user:pass@host:5432/db?sslmode=disable   (also postgresql://)
//	mysql://user:pass@host:3306/db?param=value
//
// SQLite files are opened in WAL mode with foreign keys on, a busy timeout and
// BEGIN IMMEDIATE transactions, so concurrent writers queue instead of failing.
// MySQL connections parse times as UTC and run in strict mode.
func Open(ctx context.Context, rawURL string) (*sqlx.DB, error) {
	driver, dsn, err := DSN(rawURL)
	if err != nil {
		return nil, err
	}
	db, err := sqlx.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("sqldb: open %s: %w", Redact(rawURL), err)
	}
	if driver == "sqlite3" && strings.Contains(dsn, "mode=memory") {
		// Each connection to :memory: would be a different database.
		db.SetMaxOpenConns(1)
	}
	if driver != "sqlite3" {
		db.SetMaxIdleConns(16)
		db.SetConnMaxLifetime(30 * time.Minute)
	}
	if err := ping(ctx, db, driver); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqldb: connect %s: %w", Redact(rawURL), err)
	}
	return db, nil
}

// ping checks the first connection. On SQLite, connecting switches a new
// database to WAL, which needs the database to itself and fails at once
// ("database is locked", without waiting for the busy timeout) when other
// processes are opening the same new file: retry that for up to the busy
// timeout's 10 s.
func ping(ctx context.Context, db *sqlx.DB, driver string) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.PingContext(ctx)
		if err == nil || driver != "sqlite3" || !IsRetryable(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// DSN turns a RepoKit database URL into a database/sql driver name and DSN.
func DSN(rawURL string) (driver, dsn string, err error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return "", "", fmt.Errorf("sqldb: %q is not a URL (want sqlite://, postgres:// or mysql://)", Redact(rawURL))
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3", "file":
		d, err := sqliteDSN(rest)
		return "sqlite3", d, err
	case "postgres", "postgresql":
		return "postgres", rawURL, nil
	case "mysql", "mariadb":
		d, err := mysqlDSN(rawURL)
		return "mysql", d, err
	}
	return "", "", fmt.Errorf("sqldb: unsupported scheme %q (want sqlite, postgres or mysql)", scheme)
}

var sqliteDefaults = [][2]string{
	{"_busy_timeout", "10000"},
	{"_journal_mode", "WAL"},
	{"_foreign_keys", "on"},
	{"_txlock", "immediate"},
	{"_synchronous", "NORMAL"},
}

func sqliteDSN(rest string) (string, error) {
	path, query, _ := strings.Cut(rest, "?")
	vals, _ := url.ParseQuery(query)
	memory := path == ":memory:" || path == "" || vals.Get("mode") == "memory"
	for _, kv := range sqliteDefaults {
		if memory && kv[0] == "_journal_mode" {
			continue
		}
		if vals.Get(kv[0]) == "" {
			vals.Set(kv[0], kv[1])
		}
	}
	if memory {
		vals.Set("mode", "memory")
		if path == "" {
			path = ":memory:"
		}
	}
	if path == ":memory:" {
		return "file::memory:?" + vals.Encode(), nil
	}
	if !memory {
		// sqlite:///abs, sqlite:////abs (four slashes) and sqlite://rel all
		// mean what they look like; relative paths are fixed at open time.
		abs, err := localpath.FromPath(path)
		if err != nil {
			return "", fmt.Errorf("sqldb: sqlite path: %w", err)
		}
		path = abs
	}
	return "file:" + path + "?" + vals.Encode(), nil
}

func mysqlDSN(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("sqldb: bad mysql URL: %w", err)
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if !strings.Contains(cfg.Addr, ":") {
		cfg.Addr += ":3306"
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Params = map[string]string{
		"sql_mode":  "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
		"time_zone": "'+00:00'",
	}
	for k, v := range u.Query() {
		switch k {
		case "parseTime", "loc":
			continue
		case "tls":
			cfg.TLSConfig = v[0]
		default:
			cfg.Params[k] = v[0]
		}
	}
	return cfg.FormatDSN(), nil
}

// Redact hides a password in a URL for logs and errors.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	return u.Redacted()
}
