package dbschema_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"

	"github.com/meridian-graphql/meridian/internal/dbschema"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// dev returns the scratch databases of a backend, closed when the test
// ends: in memory for SQLite, two fresh databases on TEST_DATABASE_URL for
// PostgreSQL.
func dev(t *testing.T, backend string) dbschema.Dev {
	t.Helper()
	if backend == "sqlite" {
		d, closeDev, err := dbschema.SQLiteDev()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(closeDev)
		return d
	}
	open := func() *sql.DB {
		db, err := sql.Open("pgx", testdb.NewPostgresDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	return dbschema.Dev{Dialect: "postgres", Desired: open(), Replay: open()}
}

func dialectOf(backend string) string {
	if backend == "postgres" {
		return "postgres"
	}
	return "sqlite3"
}

// TestMigrationDirectoriesMatchTheSchema is the check of the committed
// migration directories: replayed on a scratch database, each must give
// ent's schema and the owners' tables exactly, and its atlas.sum must hold.
// It fails after a change to ent/schema or to an owner's Tables that has
// no migration file yet, saying what is missing and how to write it.
func TestMigrationDirectoriesMatchTheSchema(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			dir, err := database.MigrationDir(dialectOf(backend))
			if err != nil {
				t.Fatal(err)
			}
			if err := dbschema.Check(context.Background(), dev(t, backend), dir); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDiffWritesWhatIsMissing: a directory behind the schema — an owner's
// table missing (api_keys), an ent index missing (user_total_spent), an
// index the schema no longer has (extra) — gets one new file that adds
// the table and the index and drops the extra index; with it, the
// directory matches. Check names what is missing without writing.
func TestDiffWritesWhatIsMissing(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			embedded, err := database.MigrationDir(dialectOf(backend))
			if err != nil {
				t.Fatal(err)
			}
			files, err := embedded.Files()
			if err != nil {
				t.Fatal(err)
			}
			stmts, err := files[0].StmtDecls()
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, s := range stmts {
				if strings.Contains(s.Text, "api_keys") || strings.Contains(s.Text, "user_total_spent") {
					continue
				}
				b.WriteString(s.Text + "\n")
			}
			b.WriteString("CREATE INDEX extra ON users (email);\n")
			dir := &migrate.MemDir{}
			if err := dir.CopyFiles([]migrate.File{migrate.NewLocalFile(files[0].Name(), []byte(b.String()))}); err != nil {
				t.Fatal(err)
			}
			err = dbschema.Check(ctx, dev(t, backend), dir)
			if err == nil || !strings.Contains(err.Error(), "does not match the schema") || !strings.Contains(err.Error(), "go generate ./platform/database/...") {
				t.Fatalf("check of a directory behind the schema: %v", err)
			}
			if got, _ := dir.Files(); len(got) != 1 {
				t.Fatalf("check wrote into the directory: %d files", len(got))
			}
			f, err := dbschema.Diff(ctx, dev(t, backend), dir, "99990101000000", "catch_up")
			if err != nil || f == nil {
				t.Fatalf("diff: %v, %v", f, err)
			}
			if f.Name() != "99990101000000_catch_up.sql" {
				t.Errorf("new file %s", f.Name())
			}
			body := string(f.Bytes())
			for _, want := range []string{"api_keys", "user_total_spent", "DROP INDEX"} {
				if !strings.Contains(body, want) {
					t.Errorf("the new file lacks %q:\n%s", want, body)
				}
			}
			if err := migrate.Validate(dir); err != nil {
				t.Errorf("atlas.sum after the diff: %v", err)
			}
			if err := dbschema.Check(ctx, dev(t, backend), dir); err != nil {
				t.Errorf("with the new file: %v", err)
			}
		})
	}
}
