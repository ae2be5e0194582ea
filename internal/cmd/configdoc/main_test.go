package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/platform/config"
)

// TestConfigurationDocIsCurrent renders docs/configuration.md from
// config.Vars in memory and fails when the committed file differs.
func TestConfigurationDocIsCurrent(t *testing.T) {
	committed, err := os.ReadFile(filepath.Join("..", "..", "..", File))
	if err != nil {
		t.Fatal(err)
	}
	if string(committed) != Render(config.Vars()) {
		t.Errorf("%s is stale (config.Vars changed): run `go generate .` (or `go run ./internal/cmd/configdoc`) at the repository root and commit %s", File, File)
	}
}

// TestRenderEveryVariable: one row per variable, empty defaults said so,
// names of other variables in code spans, table markup escaped.
func TestRenderEveryVariable(t *testing.T) {
	vars := []config.Var{
		{Name: "A_VAR", Default: "", Help: "see B_VAR; a | b, or *"},
		{Name: "B_VAR", Default: "1s", Help: "allow __schema"},
	}
	got := Render(vars)
	for _, want := range []string{
		"| `A_VAR` | (empty) | see `B_VAR`; a \\| b, or \\* |\n",
		"| `B_VAR` | `1s` | allow \\_\\_schema |\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if n := strings.Count(Render(config.Vars()), "\n| `"); n != len(config.Vars()) {
		t.Errorf("%d rows, want %d", n, len(config.Vars()))
	}
}
