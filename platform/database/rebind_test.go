package database_test

import (
	"testing"

	"entgo.io/ent/dialect"

	"github.com/meridian-graphql/meridian/platform/database"
)

// TestRebind pins the one placeholder rewrite the hand-written statements
// of both dialects go through: numbered in order on PostgreSQL, past nine
// too, every other byte kept; SQLite's statements are left as written.
func TestRebind(t *testing.T) {
	for _, tc := range []struct {
		dialect, q, want string
	}{
		{dialect.Postgres, `SELECT 1`, `SELECT 1`},
		{dialect.Postgres, `SELECT a FROM t WHERE b = ? AND c IN (?, ?)`, `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`},
		{dialect.Postgres, `?,?,?,?,?,?,?,?,?,?,?`, `$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11`},
		{dialect.Postgres, `SELECT 'Київ€' || ?`, `SELECT 'Київ€' || $1`},
		{dialect.Postgres, "SELECT '\xff' || ?", "SELECT '\xff' || $1"}, // not UTF-8: passed through as is
		{dialect.Postgres, ``, ``},
		{dialect.SQLite, `SELECT a FROM t WHERE b = ? AND c IN (?, ?)`, `SELECT a FROM t WHERE b = ? AND c IN (?, ?)`},
	} {
		if got := database.Rebind(tc.dialect, tc.q); got != tc.want {
			t.Errorf("Rebind(%s, %q) = %q, want %q", tc.dialect, tc.q, got, tc.want)
		}
	}
	// The method rebinds for the database's own dialect.
	pg, lite := &database.DB{Dialect: dialect.Postgres}, &database.DB{Dialect: dialect.SQLite}
	if got := pg.Rebind(`a = ? OR b = ?`); got != `a = $1 OR b = $2` {
		t.Errorf("PostgreSQL DB.Rebind = %q", got)
	}
	if got := lite.Rebind(`a = ? OR b = ?`); got != `a = ? OR b = ?` {
		t.Errorf("SQLite DB.Rebind = %q", got)
	}
}
