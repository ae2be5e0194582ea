package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStartsGoroutine: a go statement or a call of a method named Go (as
// sync.WaitGroup.Go and errgroup.Group.Go) marks a package as concurrent;
// a package without either, even one that mentions goroutines, is not.
// The code under test sits in a test file beside a file without any: the
// tests' goroutines count too.
func TestStartsGoroutine(t *testing.T) {
	for name, tc := range map[string]struct {
		src  string
		want bool
	}{
		"go statement":     {"package p\nfunc f() { go func() {}() }\n", true},
		"WaitGroup.Go":     {"package p\nimport \"sync\"\nfunc f() { var wg sync.WaitGroup; wg.Go(func() {}); wg.Wait() }\n", true},
		"sequential":       {"package p\n// f starts no goroutine; Go is only a word here.\nfunc f() { Go() }\nfunc Go() {}\n", false},
		"a field named Go": {"package p\ntype s struct{ Go int }\nfunc f(v s) int { return v.Go }\n", false},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			files := []string{"a.go"}
			if err := os.WriteFile(filepath.Join(dir, "a.go"), []byte("package p\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "b_test.go"), []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, "b_test.go")
			got, err := startsGoroutine(dir, files)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("startsGoroutine = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestGeneratedPackages: ent's packages and graph are left out, as make
// test leaves them out; a package merely named like them is not.
func TestGeneratedPackages(t *testing.T) {
	for path, want := range map[string]bool{
		"github.com/meridian-graphql/meridian/ent":         true,
		"github.com/meridian-graphql/meridian/ent/user":    true,
		"github.com/meridian-graphql/meridian/graph":       true,
		"github.com/meridian-graphql/meridian/graph/model": false,
		"github.com/meridian-graphql/meridian/entry":       false,
		"github.com/meridian-graphql/meridian/loaders":     false,
	} {
		if got := generated(path); got != want {
			t.Errorf("generated(%q) = %v, want %v", path, got, want)
		}
	}
}
