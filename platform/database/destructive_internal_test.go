package database

import (
	"slices"
	"testing"

	"ariga.io/atlas/sql/migrate"
)

// TestDestructiveStmts pins the statement check of PostgreSQL files: what
// drops data or structure, and what only looks like it.
func TestDestructiveStmts(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{`DROP TABLE "users";`, []string{`table "users"`}},
		{`drop table if exists a, "B" cascade;`, []string{`table "a"`, `table "B"`}},
		{`DROP INDEX CONCURRENTLY IF EXISTS "outbox_sent";`, []string{`index "outbox_sent"`}},
		{"DROP INDEX \"i\";\nCREATE INDEX \"i\" ON t (a, b);", nil}, // recreated: a change
		{`DROP SCHEMA old CASCADE;`, []string{`schema "old"`}},
		{`TRUNCATE TABLE events;`, []string{`the rows of "events"`}},
		{`ALTER TABLE "users" DROP COLUMN "nickname";`, []string{`column "users"."nickname"`}},
		{`ALTER TABLE ONLY t ADD COLUMN a text, DROP b, DROP COLUMN IF EXISTS c;`, []string{`column "t"."b"`, `column "t"."c"`}},
		{`ALTER TABLE t DROP CONSTRAINT t_fk, ALTER COLUMN a DROP NOT NULL, ALTER COLUMN b DROP DEFAULT;`, nil},
		{`UPDATE t SET note = 'drop table t; alter table t drop column x';`, nil},
		{"-- DROP TABLE t\nALTER TABLE t ADD COLUMN d bigint;", nil},
		{`CREATE TABLE t (a text DEFAULT 'DROP INDEX x');`, nil},
	} {
		found, err := destructiveStmts(migrate.NewLocalFile("1_x.sql", []byte(tc.sql)))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range found {
			got = append(got, f.What)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.sql, got, tc.want)
		}
	}
}
