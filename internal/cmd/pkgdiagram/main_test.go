package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiagramsAreCurrent regenerates the diagrams in memory from the
// module's packages and fails when a committed file holds another.
func TestDiagramsAreCurrent(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	module, pkgs, err := Load(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Files {
		old, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		want, err := Update(string(old), module, pkgs)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if want != string(old) {
			t.Errorf("%s: the package diagram is stale (the imports changed): run `go generate .` (or `go run ./internal/cmd/pkgdiagram`) at the repository root and commit %s", f, f)
		}
	}
}

// TestRender: ent's subpackages are one node, test support and benchmark
// tools are left out, an import implied by a longer chain is no edge, and
// the folder view lifts the edges to top-level folders.
func TestRender(t *testing.T) {
	const m = "example.com/m"
	pkgs := []Package{
		{ImportPath: m, Imports: []string{m + "/a", m + "/a/b", m + "/c", "fmt"}},
		{ImportPath: m + "/a", Imports: []string{m + "/a/b", m + "/ent/user"}},
		{ImportPath: m + "/a/b", Imports: []string{m + "/c"}},
		{ImportPath: m + "/a/storetest", Imports: []string{m + "/a", m + "/internal/testdb"}},
		{ImportPath: m + "/c"},
		{ImportPath: m + "/ent", Imports: []string{m + "/ent/user"}},
		{ImportPath: m + "/ent/user"},
		{ImportPath: m + "/internal/testdb", Imports: []string{m + "/c"}},
		{ImportPath: m + "/bench/x", Imports: []string{m + "/a"}},
	}
	got := Render(m, pkgs, Packages)
	for _, want := range []string{"p_main --> p_a\n", "p_a --> p_a_b\n", "p_a --> p_ent\n", "p_a_b --> p_c\n", `subgraph dir_a["a/"]`, `p_main["meridian (main)"]`} {
		if !strings.Contains(got, want) {
			t.Errorf("packages view lacks %q:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"p_main --> p_c\n", "p_main --> p_a_b\n", "storetest", "internal", "bench", "ent_user"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("packages view has %q:\n%s", unwanted, got)
		}
	}
	folders := Render(m, pkgs, Folders)
	for _, want := range []string{`p_a["a/<br/>b"]`, "p_main --> p_a\n", "p_a --> p_c\n", "p_a --> p_ent\n"} {
		if !strings.Contains(folders, want) {
			t.Errorf("folders view lacks %q:\n%s", want, folders)
		}
	}
	doc := "x\n<!-- pkgdiagram:folders:start -->\nSTALE\n<!-- pkgdiagram:folders:end -->\ny\n"
	out, err := Update(doc, m, pkgs)
	if err != nil || !strings.Contains(out, folders) || strings.Contains(out, "STALE") || !strings.HasSuffix(out, "<!-- pkgdiagram:folders:end -->\ny\n") {
		t.Errorf("Update: %v\n%s", err, out)
	}
	if _, err := Update("no markers", m, pkgs); err == nil {
		t.Error("Update of a file without markers: no error")
	}
}
