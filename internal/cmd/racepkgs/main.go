// Command racepkgs prints the packages `make test` runs under the race
// detector: those with tests whose code (tests included) starts a
// goroutine — a go statement, or a Go method call as sync.WaitGroup.Go and
// errgroup.Group.Go make one. A new concurrent package is raced from its
// first test, without a list kept by hand (the Makefile had one, which
// silently skipped what it did not name).
//
// Usage: go run ./internal/cmd/racepkgs [packages] (default ./...); the
// module's generated code (ent, graph) is left out, as by `make test`, and
// so is the module's root package: its end-to-end fault tests kill and
// freeze private services on deadlines that the race detector's slowdown
// breaks (TestFaultSIGTERMDrain, TestFaultDatabaseOutage failed under
// -race on 2 cores); the packages it assembles are raced on their own.
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	patterns := os.Args[1:]
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	if err := run(context.Background(), patterns); err != nil {
		slog.Error("racepkgs", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, patterns []string) error {
	args := append([]string{"list", "-f", `{{.ImportPath}}|{{.Dir}}|{{join .GoFiles ","}}|{{join .TestGoFiles ","}}|{{join .XTestGoFiles ","}}|{{.Module.Path}}`}, patterns...)
	out, err := exec.CommandContext(ctx, "go", args...).Output()
	if err != nil {
		return fmt.Errorf("go list: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "|")
		if len(f) != 6 || generated(f[0]) || f[0] == f[5] {
			continue
		}
		tests := split(f[3]) + split(f[4])
		if tests == "" {
			continue // nothing to run
		}
		files := strings.Split(strings.Trim(split(f[2])+tests, ","), ",")
		concurrent, err := startsGoroutine(f[1], files)
		if err != nil {
			return err
		}
		if concurrent {
			fmt.Println(f[0])
		}
	}
	return sc.Err()
}

// split keeps a comma-joined list comma-terminated, for concatenation.
func split(s string) string {
	if s == "" {
		return ""
	}
	return s + ","
}

// generated tells the generated packages, which make test leaves out.
func generated(importPath string) bool {
	return strings.Contains(importPath, "/ent/") || strings.HasSuffix(importPath, "/ent") || strings.HasSuffix(importPath, "/graph")
}

// startsGoroutine reports whether any of files holds a go statement or a
// call of a method named Go.
func startsGoroutine(dir string, files []string) (bool, error) {
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return false, fmt.Errorf("parse %s: %w", name, err)
		}
		found := false
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				found = true
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Go" {
					found = true
				}
			}
			return !found
		})
		if found {
			return true, nil
		}
	}
	return false, nil
}
