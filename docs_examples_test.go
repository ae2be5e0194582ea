package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/meridian-graphql/meridian/internal/gqltest"
)

// docFiles are the documents whose ```graphql blocks TestDocsGraphQLExamples
// runs: the README and every page of docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"README.md"}, pages...)
}

// docBlock is one ```graphql block of a document, with the annotations of
// the HTML comments on the lines just before it:
//
//	<!-- as: anonymous|viewer|analyst|admin -->  who sends it (default: no
//	    credentials for queries and subscriptions, the ADMIN key for mutations)
//	<!-- expect: CODE -->  the block's one operation must fail with
//	    extensions.code CODE (default: every operation must succeed)
//
// and the variables of a ```json block that follows it directly.
type docBlock struct {
	File   string
	Line   int
	Query  string
	Vars   map[string]any
	As     string
	Expect string
	Ops    []*ast.OperationDefinition
	Doc    *ast.QueryDocument
}

func (b docBlock) String() string { return fmt.Sprintf("%s:%d", b.File, b.Line) }

var annotation = regexp.MustCompile(`^<!--\s*(as|expect):\s*([A-Za-z_-]+)\s*-->$`)

// parseDocBlocks reads the graphql blocks of one Markdown document.
func parseDocBlocks(t *testing.T, file string) []docBlock {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []docBlock
	var pending map[string]string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	line := 0
	// fence reads a fenced block's body up to its closing ```.
	fence := func() string {
		var body strings.Builder
		for sc.Scan() {
			line++
			if strings.TrimSpace(sc.Text()) == "```" {
				return body.String()
			}
			body.WriteString(sc.Text() + "\n")
		}
		t.Fatalf("%s:%d: unclosed code block", file, line)
		return ""
	}
	lastGraphQL := -1 // index of the block a following ```json belongs to
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "":
			continue
		case annotation.MatchString(text):
			m := annotation.FindStringSubmatch(text)
			if pending == nil {
				pending = map[string]string{}
			}
			pending[m[1]] = m[2]
			lastGraphQL = -1
			continue
		case text == "```graphql":
			b := docBlock{File: file, Line: line, As: pending["as"], Expect: pending["expect"]}
			b.Query = fence()
			blocks = append(blocks, b)
			lastGraphQL = len(blocks) - 1
		case text == "```json" && lastGraphQL >= 0:
			body := fence()
			if err := json.Unmarshal([]byte(body), &blocks[lastGraphQL].Vars); err != nil {
				t.Fatalf("%s:%d: the json block after a graphql block holds its variables: %v", file, line, err)
			}
			lastGraphQL = -1
		case strings.HasPrefix(text, "```"):
			fence()
			lastGraphQL = -1
		default:
			lastGraphQL = -1
		}
		pending = nil
	}
	return blocks
}

// TestDocsGraphQLExamples runs every ```graphql block of README.md and
// docs/*.md against the embedded default (`go run .`: SQLite, the demo
// data, in-process cache and bus), as a reader pasting it into GraphiQL
// would: every block must parse; a block of several operations must name
// each of them (GraphiQL refuses "This anonymous operation must be the only
// defined operation"), and each runs on its own by its name. Queries and
// mutations must answer without errors, or with the code the block's
// <!-- expect: CODE --> names. Subscriptions are opened first over
// graphql-transport-ws and must each deliver an event once the documents'
// mutations have run: the README's subscriptions fire on its own examples.
func TestDocsGraphQLExamples(t *testing.T) {
	var blocks []docBlock
	for _, f := range docFiles(t) {
		blocks = append(blocks, parseDocBlocks(t, f)...)
	}
	if len(blocks) == 0 {
		t.Fatal("no graphql blocks found")
	}
	for i := range blocks {
		b := &blocks[i]
		doc, err := parser.ParseQuery(&ast.Source{Name: b.String(), Input: b.Query})
		if err != nil {
			t.Fatalf("%s: does not parse: %v", b, err)
		}
		b.Ops, b.Doc = doc.Operations, doc
		if len(b.Ops) > 1 {
			for _, op := range b.Ops {
				if op.Name == "" {
					t.Errorf("%s: a block of %d operations must name each (GraphiQL refuses an anonymous one beside others)", b, len(b.Ops))
					break
				}
			}
		}
		if b.Expect != "" && len(b.Ops) != 1 {
			t.Errorf("%s: <!-- expect: %s --> applies to a block of one operation, this one has %d", b, b.Expect, len(b.Ops))
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// The embedded default with its 2,000 demo users, as `go run .` serves
	// it on a fresh checkout, and a key per role.
	srv := prepareProduction(t, map[string]string{"MERIDIAN_DATA_DIR": t.TempDir()}, nil, nil)
	keys := map[string]string{}
	for _, role := range []string{"viewer", "analyst", "admin"} {
		var key, stderr bytes.Buffer
		if err := run(context.Background(), []string{"apikey", "create", "--name", "docs-" + role, "--role", role}, func(k string) string { return srv.Vars[k] }, &key, &stderr); err != nil {
			t.Fatalf("apikey create: %v\n%s", err, stderr.String())
		}
		keys[role] = "Bearer " + strings.TrimSpace(key.String())
	}
	srv.serveInProcess(t)
	credential := func(b docBlock, op *ast.OperationDefinition) string {
		switch b.As {
		case "":
			if op.Operation == ast.Mutation {
				return keys["admin"]
			}
			return ""
		case "anonymous":
			return ""
		}
		k, ok := keys[b.As]
		if !ok {
			t.Fatalf("%s: <!-- as: %s -->: want anonymous, viewer, analyst or admin", b, b.As)
		}
		return k
	}

	// Subscriptions first, so that the mutations below reach them.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type sub struct {
		block docBlock
		name  string
		ws    *gqltest.WS
	}
	var subs []sub
	for _, b := range blocks {
		for _, op := range b.Ops {
			if op.Operation != ast.Subscription {
				continue
			}
			var init map[string]any
			if c := credential(b, op); c != "" {
				init = map[string]any{"Authorization": c}
			}
			if b.Vars != nil {
				t.Fatalf("%s: give a subscription's arguments inline: the test sends it without variables", b)
			}
			ws := gqltest.DialWS(t, ctx, srv.URL, "graphql-transport-ws", init)
			ws.Start("1", alone(b, op))
			subs = append(subs, sub{b, op.Name, ws})
		}
	}
	waitSubscribers(t, srv, len(subs))
	t.Logf("%d blocks in %d documents, %d subscriptions open", len(blocks), len(docFiles(t)), len(subs))

	for _, b := range blocks {
		for _, op := range b.Ops {
			if op.Operation == ast.Subscription {
				continue
			}
			res := srv.query(t, credential(b, op), map[string]any{"query": b.Query, "operationName": op.Name, "variables": b.Vars})
			what := b.String()
			if op.Name != "" {
				what += " " + op.Name
			}
			switch {
			case b.Expect == "" && len(res.Errors) > 0:
				t.Errorf("%s: %d errors, first %s: %s", what, len(res.Errors), res.Code(), res.Errors[0].Message)
			case b.Expect == "" && res.Status != http.StatusOK:
				t.Errorf("%s: HTTP %d", what, res.Status)
			case b.Expect != "" && !hasCode(res, b.Expect):
				t.Errorf("%s: want an error %s, got %d errors (first %q) and data %.200s", what, b.Expect, len(res.Errors), res.Code(), res.Data)
			}
		}
	}

	for _, s := range subs {
		what := s.block.String()
		if s.name != "" {
			what += " " + s.name
		}
		f, ok := s.ws.NextWithin(10 * time.Second)
		switch {
		case !ok:
			t.Errorf("%s: the subscription delivered nothing after the documents' mutations ran: make an example in README.md or docs/ fire it", what)
		case f.Type == "error" || f.ErrorCode() != "":
			t.Errorf("%s: %s %s", what, f.Type, f.Payload)
		case f.Type != "next":
			t.Errorf("%s: first frame %s %s, want next", what, f.Type, f.Payload)
		}
	}
}

// alone is the document of op with the block's fragments, for a client
// that sends no operation name.
func alone(b docBlock, op *ast.OperationDefinition) string {
	var out strings.Builder
	formatter.NewFormatter(&out).FormatQueryDocument(&ast.QueryDocument{Operations: ast.OperationList{op}, Fragments: b.Doc.Fragments})
	return out.String()
}

func hasCode(res *gqlResult, code string) bool {
	for _, e := range res.Errors {
		if c, _ := e.Extensions["code"].(string); c == code {
			return true
		}
	}
	return false
}

// waitSubscribers waits until the server counts n live subscribers
// (meridian_live_subscribers on its metrics listener), so that events
// tracked next reach every subscription just started.
func waitSubscribers(t *testing.T, srv *prodServer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	got := -1
	for time.Now().Before(deadline) {
		res, err := http.Get("http://" + srv.MetricsAddr + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			for l := range strings.SplitSeq(string(body), "\n") {
				if v, ok := strings.CutPrefix(l, "meridian_live_subscribers "); ok {
					got, _ = strconv.Atoi(strings.TrimSpace(v))
				}
			}
			if got >= n {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%d live subscribers after 10 s, want %d", got, n)
}
