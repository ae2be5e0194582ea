// Command migrations owns the versioned migration directories of
// platform/database (migrations/sqlite, migrations/postgres): it diffs each
// against the desired schema — ent's schema and the owners' Tables,
// internal/dbschema — on scratch databases and writes the difference as a
// new file <version>_<name>.sql with its atlas.sum line, the same version
// in both directories. When a directory is up to date it writes nothing.
//
// go generate ./platform/database/... runs it (name "changes"); by hand,
// from the repository root, name what changed:
//
//	go run ./internal/cmd/migrations -name add_widgets
//	go run ./internal/cmd/migrations -new -name backfill_x   # an empty file to write by hand
//	go run ./internal/cmd/migrations -hash                   # after editing a file by hand
//	go run ./internal/cmd/migrations -check                  # exit 1 when a directory is behind
//
// SQLite is diffed in memory. PostgreSQL needs a server where it may
// create (and then drop) two scratch databases: -dev-url, else
// MERIDIAN_MIGRATE_DEV_URL, else TEST_DATABASE_URL, else the local
// trust-auth server of the development machines and CI.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"

	"github.com/meridian-graphql/meridian/internal/dbschema"
)

// defaultDevURL is the local server of the development machines and CI.
const defaultDevURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "migrations:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("migrations", flag.ContinueOnError)
	root := fs.String("dir", "platform/database/migrations", "the directory holding sqlite/ and postgres/")
	name := fs.String("name", "changes", "what the new file is about: [a-z0-9_]+")
	dialects := fs.String("dialect", "sqlite,postgres", "the dialects to diff, comma-separated")
	devURL := fs.String("dev-url", firstSet(os.Getenv("MERIDIAN_MIGRATE_DEV_URL"), os.Getenv("TEST_DATABASE_URL"), defaultDevURL),
		"PostgreSQL server on which to create the scratch databases")
	check := fs.Bool("check", false, "write nothing; fail when a directory is behind the schema")
	hash := fs.Bool("hash", false, "recompute atlas.sum after files were written or edited by hand")
	blank := fs.Bool("new", false, "add an empty file -name to each directory, to write by hand")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !regexp.MustCompile(`^[a-z0-9_]+$`).MatchString(*name) {
		return fmt.Errorf("-name %q: want lowercase letters, digits and _", *name)
	}
	version := time.Now().UTC().Format("20060102150405")
	for _, d := range strings.Split(*dialects, ",") {
		d = strings.TrimSpace(d)
		if d == "sqlite" {
			d = dialect.SQLite
		}
		if d != dialect.SQLite && d != dialect.Postgres {
			return fmt.Errorf("-dialect: unknown %q (want sqlite, postgres)", d)
		}
		path := filepath.Join(*root, map[string]string{dialect.SQLite: "sqlite", dialect.Postgres: "postgres"}[d])
		dir, err := migrate.NewLocalDir(path)
		if err != nil {
			return fmt.Errorf("open %s: %w", path, err)
		}
		switch {
		case *hash:
			err = rehash(dir)
		case *blank:
			err = newFile(dir, version, *name)
		default:
			err = diff(ctx, d, *devURL, dir, version, *name, *check)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// diff writes (or, with check, only looks for) the directory's new file.
func diff(ctx context.Context, dialectName, devURL string, dir *migrate.LocalDir, version, name string, check bool) error {
	var (
		dev      dbschema.Dev
		closeDev func()
		err      error
	)
	if dialectName == dialect.Postgres {
		dev, closeDev, err = dbschema.PostgresDev(ctx, devURL)
	} else {
		dev, closeDev, err = dbschema.SQLiteDev()
	}
	if err != nil {
		return err
	}
	defer closeDev()
	if check {
		return dbschema.Check(ctx, dev, dir)
	}
	f, err := dbschema.Diff(ctx, dev, dir, version, name)
	if err != nil {
		return err
	}
	if f != nil {
		fmt.Printf("wrote %s/%s: review it, then commit it with its atlas.sum\n", dir.Path(), f.Name())
	}
	return nil
}

// rehash rewrites atlas.sum from the files, as `atlas migrate hash` does.
func rehash(dir *migrate.LocalDir) error {
	sum, err := dir.Checksum()
	if err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	if err := migrate.WriteSumFile(dir, sum); err != nil {
		return fmt.Errorf("write atlas.sum: %w", err)
	}
	return nil
}

// newFile adds an empty file for SQL written by hand (a data migration, a
// dropped table), and its atlas.sum line.
func newFile(dir *migrate.LocalDir, version, name string) error {
	file := version + "_" + name + ".sql"
	body := "-- Written by hand: run `go run ./internal/cmd/migrations -hash` after editing.\n"
	if err := dir.WriteFile(file, []byte(body)); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	fmt.Printf("wrote %s/%s\n", dir.Path(), file)
	return rehash(dir)
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
