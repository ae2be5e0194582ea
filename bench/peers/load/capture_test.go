package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReadLogInlinesParameters: statements of the chosen database only,
// multi-line ones whole, the DETAIL parameters inlined as literals (quotes
// doubled, NULL, $10 not taken for $1), simple-protocol ones as they are.
func TestReadLogInlinesParameters(t *testing.T) {
	log := `2026-12-07 01:25:07.459 UTC [21185] postgres@bench LOG:  execute stmtcache_1: SELECT a FROM t WHERE x IN ($1, $2, $10)
	AND y = $3
2026-12-07 01:25:07.459 UTC [99] postgres@other LOG:  statement: SELECT 'not ours'
2026-12-07 01:25:07.460 UTC [21185] postgres@bench DETAIL:  parameters: $1 = '4', $2 = 'it''s, $2', $3 = NULL, $10 = '10'
2026-12-07 01:25:07.461 UTC [21186] postgres@bench LOG:  statement: -- ping
`
	path := filepath.Join(t.TempDir(), "pg.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readLog(path, 0, "bench")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d entries, want 2: %+v", len(got), got)
	}
	want := "SELECT a FROM t WHERE x IN ('4', 'it''s, $2', '10')\nAND y = NULL"
	if got[0].sql != want {
		t.Errorf("got  %q\nwant %q", got[0].sql, want)
	}
	if got[1].sql != "-- ping" || got[1].at.IsZero() {
		t.Errorf("second entry %+v", got[1])
	}
}
