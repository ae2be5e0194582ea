// Command pkgdiagram owns the package diagrams of the documentation: it
// reads the module's packages and their imports with `go list -json ./...`
// and writes Mermaid graphs of them between markers in the files it is
// given (Files by default), so that the picture of the architecture is
// the code's and not a drawing kept by hand.
//
// What it shows: every package of the module but the generated ent
// subpackages (ent/… is one node, ent), the test support (internal/…,
// packages named …test such as analytics/storetest) and the benchmark
// tools (bench/…). Packages under one top-level folder form a subgraph of
// that folder. An edge A --> B says that A imports B; an import that a
// longer path already implies (A imports B, B imports C, and A imports C)
// is left out, so the graph is the transitive reduction of the imports
// and stays readable.
//
// Two views, each between its own markers: <!-- pkgdiagram:packages:start -->
// and <!-- pkgdiagram:packages:end --> every package (docs/architecture.md),
// <!-- pkgdiagram:folders:start --> and <!-- pkgdiagram:folders:end --> one
// node per top-level folder with the imports between folders (README.md).
//
// Usage, from the repository root (go generate runs it so, see
// generate.go): go run ./internal/cmd/pkgdiagram [FILE…]. The test of this
// package fails when a committed diagram is stale.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Mode is a view of the packages.
type Mode string

const (
	// Packages shows every package, in subgraphs per top-level folder.
	Packages Mode = "packages"
	// Folders shows one node per top-level folder.
	Folders Mode = "folders"
)

// Modes are the views, each written between its markers.
var Modes = []Mode{Packages, Folders}

// Markers are the lines between which the diagram of mode m is written.
func Markers(m Mode) (start, end string) {
	return "<!-- pkgdiagram:" + string(m) + ":start -->", "<!-- pkgdiagram:" + string(m) + ":end -->"
}

// Files are the files holding diagrams, relative to the repository root:
// what go generate (no arguments) updates and the test checks.
var Files = []string{"README.md", "docs/architecture.md"}

func main() {
	files := os.Args[1:]
	if len(files) == 0 {
		files = Files
	}
	if err := run(context.Background(), ".", files); err != nil {
		fmt.Fprintln(os.Stderr, "pkgdiagram:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, root string, files []string) error {
	module, pkgs, err := Load(ctx, root)
	if err != nil {
		return err
	}
	for _, f := range files {
		path := filepath.Join(root, f)
		old, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		updated, err := Update(string(old), module, pkgs)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if updated != string(old) {
			if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// Package is what go list tells of one package.
type Package struct {
	ImportPath string
	Imports    []string
	Module     *struct{ Path string }
}

// Load lists the packages of the module at root (go list -json ./...),
// and the module's path.
func Load(ctx context.Context, root string) (module string, pkgs []Package, err error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-json=ImportPath,Imports,Module", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("go list: %w: %s", err, stderr.String())
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p Package
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", nil, fmt.Errorf("go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 || pkgs[0].Module == nil {
		return "", nil, errors.New("go list found no package of a module")
	}
	return pkgs[0].Module.Path, pkgs, nil
}

// node is the diagram node of a package of the module (a path relative to
// the module, "" for its root), and whether the package is shown at all.
func node(rel string) (string, bool) {
	first, _, _ := strings.Cut(rel, "/")
	switch {
	case first == "ent":
		return "ent", true
	case first == "internal", first == "bench":
		return "", false
	case strings.HasSuffix(rel[strings.LastIndex(rel, "/")+1:], "test"):
		return "", false
	}
	return rel, true
}

// Render draws the packages of module in the mode's view.
func Render(module string, pkgs []Package, mode Mode) string {
	nodes, edges := graphOf(module, pkgs)
	reduced := reduce(nodes, edges)
	if mode == Folders {
		return renderFolders(nodes, reduced)
	}
	return renderPackages(nodes, reduced)
}

// graphOf is the shown nodes of the module's packages and their imports.
func graphOf(module string, pkgs []Package) (map[string]bool, map[string]map[string]bool) {
	rel := func(importPath string) (string, bool) {
		if importPath == module {
			return "", true
		}
		r, ok := strings.CutPrefix(importPath, module+"/")
		return r, ok
	}
	edges := map[string]map[string]bool{}
	nodes := map[string]bool{}
	for _, p := range pkgs {
		r, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		from, shown := node(r)
		if !shown {
			continue
		}
		nodes[from] = true
		for _, imp := range p.Imports {
			ri, ok := rel(imp)
			if !ok {
				continue
			}
			to, shown := node(ri)
			if !shown || to == from {
				continue
			}
			if edges[from] == nil {
				edges[from] = map[string]bool{}
			}
			edges[from][to] = true
		}
	}
	return nodes, edges
}

// folderOf is the top-level folder of a node ("" for the root package).
func folderOf(n string) string {
	first, _, _ := strings.Cut(n, "/")
	return first
}

// renderPackages draws every node, in subgraphs per top-level folder
// holding more than one.
func renderPackages(nodes map[string]bool, reduced map[string]map[string]bool) string {
	var b strings.Builder
	b.WriteString("```mermaid\ngraph TD\n")
	folders := map[string][]string{}
	for n := range nodes {
		folders[folderOf(n)] = append(folders[folderOf(n)], n)
	}
	for _, f := range sortedKeys(folders) {
		members := folders[f]
		sort.Strings(members)
		if len(members) == 1 {
			fmt.Fprintf(&b, "  %s\n", declare(members[0], label(members[0])))
			continue
		}
		fmt.Fprintf(&b, "  subgraph %s[\"%s/\"]\n", "dir_"+strings.TrimPrefix(id(f), "p_"), f)
		for _, m := range members {
			fmt.Fprintf(&b, "    %s\n", declare(m, label(m)))
		}
		b.WriteString("  end\n")
	}
	for _, from := range sortedKeys(reduced) {
		for _, to := range sortedKeys(reduced[from]) {
			fmt.Fprintf(&b, "  %s --> %s\n", id(from), id(to))
		}
	}
	b.WriteString("```\n")
	return b.String()
}

// renderFolders draws one node per top-level folder, labelled with its
// subpackages, and an edge where a package of one imports a package of
// another in the reduced graph.
func renderFolders(nodes map[string]bool, reduced map[string]map[string]bool) string {
	subs := map[string][]string{}
	for n := range nodes {
		f := folderOf(n)
		if rest, ok := strings.CutPrefix(n, f+"/"); ok {
			subs[f] = append(subs[f], rest)
		} else if subs[f] == nil {
			subs[f] = []string{}
		}
	}
	lifted := map[string]map[string]bool{}
	for from, tos := range reduced {
		for to := range tos {
			ff, ft := folderOf(from), folderOf(to)
			if ff == ft {
				continue
			}
			if lifted[ff] == nil {
				lifted[ff] = map[string]bool{}
			}
			lifted[ff][ft] = true
		}
	}
	var b strings.Builder
	b.WriteString("```mermaid\ngraph TD\n")
	for _, f := range sortedKeys(subs) {
		l := label(f)
		if f != "" {
			l += "/"
		}
		if s := subs[f]; len(s) > 0 {
			sort.Strings(s)
			l += "<br/>" + strings.Join(s, " · ")
		}
		fmt.Fprintf(&b, "  %s\n", declare(f, l))
	}
	for _, from := range sortedKeys(lifted) {
		for _, to := range sortedKeys(lifted[from]) {
			fmt.Fprintf(&b, "  %s --> %s\n", id(from), id(to))
		}
	}
	b.WriteString("```\n")
	return b.String()
}

// reduce returns the edges of the transitive reduction of the acyclic
// graph: from --> to is kept unless to is reachable from another direct
// import of from.
func reduce(nodes map[string]bool, edges map[string]map[string]bool) map[string]map[string]bool {
	reach := map[string]map[string]bool{} // node → every node reachable from it
	var visit func(n string) map[string]bool
	visit = func(n string) map[string]bool {
		if r, ok := reach[n]; ok {
			return r
		}
		r := map[string]bool{}
		reach[n] = r // Go packages do not import in cycles; ent's collapse adds none
		for to := range edges[n] {
			r[to] = true
			for x := range visit(to) {
				r[x] = true
			}
		}
		return r
	}
	for n := range nodes {
		visit(n)
	}
	out := map[string]map[string]bool{}
	for from, tos := range edges {
		for to := range tos {
			implied := false
			for via := range tos {
				if via != to && reach[via][to] {
					implied = true
					break
				}
			}
			if !implied {
				if out[from] == nil {
					out[from] = map[string]bool{}
				}
				out[from][to] = true
			}
		}
	}
	return out
}

// id is a Mermaid node id for a node, prefixed so that no package name
// (graph, end…) is read as one of Mermaid's keywords.
func id(n string) string {
	if n == "" {
		return "p_main"
	}
	return "p_" + strings.NewReplacer("/", "_", "-", "_", ".", "_").Replace(n)
}

// label names a node: its path in the module.
func label(n string) string {
	if n == "" {
		return "meridian (main)"
	}
	return n
}

// declare is a node with its label.
func declare(n, label string) string {
	return fmt.Sprintf("%s[\"%s\"]", id(n), label)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Update writes, between each pair of markers doc holds, the diagram of
// that pair's mode; a doc without any pair is an error.
func Update(doc, module string, pkgs []Package) (string, error) {
	found := false
	for _, m := range Modes {
		start, end := Markers(m)
		i := strings.Index(doc, start)
		if i < 0 {
			continue
		}
		j := strings.Index(doc[i:], end)
		if j < 0 {
			return "", fmt.Errorf("%s without %s", start, end)
		}
		found = true
		doc = doc[:i+len(start)] + "\n" + Render(module, pkgs, m) + doc[i+j:]
	}
	if !found {
		start, end := Markers(Packages)
		return "", fmt.Errorf("no diagram markers: want lines %s and %s (or the same with %s)", start, end, Folders)
	}
	return doc, nil
}
