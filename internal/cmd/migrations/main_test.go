package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
)

// TestNewAndHash: -new adds an empty file to each directory with its
// atlas.sum line, and after the file is written by hand -hash makes the
// directory valid again; a bad -name is refused.
func TestNewAndHash(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"sqlite", "postgres"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if err := run(ctx, []string{"-dir", root, "-new", "-name", "backfill_x"}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"sqlite", "postgres"} {
		dir, err := migrate.NewLocalDir(filepath.Join(root, d))
		if err != nil {
			t.Fatal(err)
		}
		files, err := dir.Files()
		if err != nil || len(files) != 1 || !strings.HasSuffix(files[0].Name(), "_backfill_x.sql") {
			t.Fatalf("%s: %v, %v", d, files, err)
		}
		if err := migrate.Validate(dir); err != nil {
			t.Errorf("%s after -new: %v", d, err)
		}
		path := filepath.Join(root, d, files[0].Name())
		if err := os.WriteFile(path, []byte("UPDATE users SET total_spent = 0;\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := migrate.Validate(dir); err == nil {
			t.Errorf("%s: an edited file validates", d)
		}
	}
	if err := run(ctx, []string{"-dir", root, "-hash"}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"sqlite", "postgres"} {
		dir, _ := migrate.NewLocalDir(filepath.Join(root, d))
		if err := migrate.Validate(dir); err != nil {
			t.Errorf("%s after -hash: %v", d, err)
		}
	}
	if err := run(ctx, []string{"-dir", root, "-new", "-name", "Bad Name"}); err == nil {
		t.Error("a bad -name was accepted")
	}
}
