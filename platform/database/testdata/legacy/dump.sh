#!/usr/bin/env bash
# Writes sqlite.sql and postgres.sql beside this script: a database as the
# start-up of REV made it on an empty SQLite file and an empty PostgreSQL
# database, REV being a commit from before versioned migrations (ent's
# auto-migration, then the owners' registry in migrations.go). The adoption
# tests (legacy_test.go) open these dumps. REV defaults to c801bf1, the
# commit the versioned migrations were written on; rerun it with the last
# commit of main before they are merged if main's schema moved meanwhile,
# and regenerate the baseline then (contributing.md, "The baseline").
#
# Needs git, sqlite3, psql and pg_dump (of the server's major version), and
# PostgreSQL at TEST_DATABASE_URL (default: the local trust-auth server).
set -euo pipefail
rev=${1:-c801bf1}
here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel)
admin=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
commit=$(git -C "$root" rev-parse --short "$rev")
work=$(mktemp -d)
name=meridian_legacy_dump_$$
trap 'psql "$admin" -qc "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

git -C "$root" archive "$rev" | tar -x -C "$work"
# REV's own start-up path: openDatabase of its root package.
cat >"$work/zz_legacy_dump_test.go" <<'EOF'
package main

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/meridian-graphql/meridian/platform/config"
)

func TestLegacyDump(t *testing.T) {
	cfg, err := config.Load(func(k string) string {
		if k == "DATABASE_URL" {
			return os.Getenv("LEGACY_DUMP_URL")
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := openDatabase(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}
EOF
run() { (cd "$work" && LEGACY_DUMP_URL=$1 go test -count=1 -run '^TestLegacyDump$' . >/dev/null); }

run "sqlite:$work/legacy.db"
{
	echo "-- A database as Meridian's start-up made it before versioned migrations"
	echo "-- (commit $commit: ent's auto-migration with WithDropIndex, then the owners'"
	echo "-- registry) on an empty SQLite file, dumped with sqlite3 .dump (its"
	echo "-- PRAGMA foreign_keys=OFF line removed). Written by dump.sh."
	sqlite3 "$work/legacy.db" .dump | grep -v '^PRAGMA foreign_keys=OFF;$'
} >"$here/sqlite.sql"

psql "$admin" -qc "CREATE DATABASE $name"
url=$(printf '%s' "$admin" | sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$name#")
run "$url"
{
	echo "-- A database as Meridian's start-up made it before versioned migrations"
	echo "-- (commit $commit: ent's auto-migration with WithDropIndex, then the owners'"
	echo "-- registry) on an empty PostgreSQL database, dumped with pg_dump --no-owner"
	echo "-- --no-privileges --inserts (its SET, set_config and psql \\restrict lines"
	echo "-- removed: every name is qualified). Written by dump.sh."
	pg_dump --no-owner --no-privileges --inserts "$url" | grep -v '^SET \|^SELECT pg_catalog.set_config\|^\\'
} >"$here/postgres.sql"
echo "wrote $here/sqlite.sql and $here/postgres.sql from $commit"
