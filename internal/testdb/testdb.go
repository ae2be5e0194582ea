// Package testdb gives each test its own fresh database — an SQLite file in
// the test's temporary directory, or a new PostgreSQL database on the server
// named by TEST_DATABASE_URL — so that the whole suite runs on both backends.
//
// Tested by every test that runs on it: each testdb.Each test runs once per
// backend it opens.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/platform/database"
)

// DefaultPostgresURL is the local trust-auth server of the development machines.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Backends are the database backends the suite runs on. PostgreSQL is left
// out only when MERIDIAN_TEST_BACKENDS says so (e.g. "sqlite").
func Backends() []string {
	switch os.Getenv("MERIDIAN_TEST_BACKENDS") {
	case "sqlite":
		return []string{"sqlite"}
	case "postgres":
		return []string{"postgres"}
	default:
		return []string{"sqlite", "postgres"}
	}
}

// Each runs fn as a subtest on a fresh database of every backend.
func Each(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b, func(t *testing.T) { fn(t, Open(t, b)) })
	}
}

// Open returns a fresh, migrated database of the backend ("sqlite" or
// "postgres"), closed and dropped when the test ends.
func Open(t testing.TB, backend string) *database.DB {
	t.Helper()
	return open(t, backend)
}

// OpenEmpty returns a fresh database of the backend that Open has not
// migrated (database.WithoutMigrate): no table at all, for tests of the
// migrations themselves and of databases made before them.
func OpenEmpty(t testing.TB, backend string) *database.DB {
	t.Helper()
	return open(t, backend, database.WithoutMigrate())
}

// URL returns the URL of a fresh, empty database of the backend.
func URL(t testing.TB, backend string) string {
	t.Helper()
	switch backend {
	case "sqlite":
		return "sqlite:" + t.TempDir() + "/test.db"
	case "postgres":
		return NewPostgresDatabase(t)
	}
	t.Fatalf("testdb: unknown backend %q", backend)
	return ""
}

func open(t testing.TB, backend string, opts ...database.Option) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), URL(t, backend), "", opts...)
	if err != nil {
		t.Fatalf("testdb: open %s: %v", backend, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// NewPostgresDatabase creates an empty database on the TEST_DATABASE_URL
// server and returns its URL; the database is dropped when the test ends.
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		admin = DefaultPostgresURL
	}
	adminDB, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adminDB.PingContext(ctx); err != nil {
		adminDB.Close()
		t.Fatalf("testdb: PostgreSQL at TEST_DATABASE_URL is unreachable (%v); start it, or set MERIDIAN_TEST_BACKENDS=sqlite to run on SQLite alone", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "meridian_test_" + hex.EncodeToString(b)
	if _, err := adminDB.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adminDB.Close()
		t.Fatalf("testdb: create database: %v", err)
	}
	t.Cleanup(func() {
		defer adminDB.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := adminDB.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("testdb: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("testdb: parse TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// OpenURL opens (and migrates) the database at url, closed when the test
// ends: for tests that run several server instances on one database.
func OpenURL(t testing.TB, url string) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), url, "")
	if err != nil {
		t.Fatalf("testdb: open %s: %v", url, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
