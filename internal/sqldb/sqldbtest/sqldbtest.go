// Package sqldbtest gives tests fresh databases on every dialect: SQLite
// always, PostgreSQL and MySQL/MariaDB when their URLs are set in
// REPOKIT_TEST_POSTGRES_URL and REPOKIT_TEST_MYSQL_URL. With
// REPOKIT_TEST_REQUIRE_SERVICES=1 a missing URL fails the test instead of
// skipping it.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/testenv"
)

// Environment variables read by the helpers.
const (
	PostgresEnv = "REPOKIT_TEST_POSTGRES_URL"
	MySQLEnv    = "REPOKIT_TEST_MYSQL_URL"
	RequireEnv  = testenv.RequireEnv
)

// Dialects lists every dialect a conformance suite runs on.
var Dialects = []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres, sqldb.MySQL}

// ServiceURL returns the value of env, or skips the test when it is unset
// (fails it when REPOKIT_TEST_REQUIRE_SERVICES=1); the skip is counted for
// testenv.Main's summary.
func ServiceURL(t testing.TB, env string) string {
	t.Helper()
	return testenv.Service(t, env)
}

// Run runs fn as a subtest per dialect ("sqlite", "postgres", "mysql"),
// skipping the server dialects whose URL is not set.
func Run(t *testing.T, fn func(t *testing.T, d sqldb.Dialect)) {
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			if d != sqldb.SQLite {
				ServiceURL(t, envOf(d))
			}
			fn(t, d)
		})
	}
}

func envOf(d sqldb.Dialect) string {
	if d == sqldb.Postgres {
		return PostgresEnv
	}
	return MySQLEnv
}

// FreshURL creates an empty database of dialect d for this test and returns
// its RepoKit URL; the database is dropped when the test ends.
func FreshURL(t testing.TB, d sqldb.Dialect) string {
	t.Helper()
	if d == sqldb.SQLite {
		return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
	}
	base := ServiceURL(t, envOf(d))
	name := "repokit_t_" + randHex(6)
	admin, err := sqldb.Open(context.Background(), base)
	if err != nil {
		t.Fatalf("open %s: %v", sqldb.Redact(base), err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		admin, err := sqldb.Open(context.Background(), base)
		if err != nil {
			t.Logf("drop %s: %v", name, err)
			return
		}
		defer admin.Close()
		q := "DROP DATABASE IF EXISTS " + name
		if d == sqldb.Postgres {
			q += " WITH (FORCE)"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", sqldb.Redact(base), err)
	}
	u.Path = "/" + name
	return u.String()
}

// Fresh opens an empty database of dialect d for this test; it is closed and
// dropped when the test ends.
func Fresh(t testing.TB, d sqldb.Dialect) *sqlx.DB {
	t.Helper()
	u := FreshURL(t, d)
	db, err := sqldb.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open fresh %s database: %v", d, err)
	}
	if d != sqldb.SQLite {
		db.SetMaxOpenConns(64)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
