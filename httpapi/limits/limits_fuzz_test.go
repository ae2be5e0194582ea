package limits_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/meridian-graphql/meridian/graph"
	"github.com/meridian-graphql/meridian/httpapi/limits"
)

// fuzzQueries seed the query-text targets: real operations of the API,
// lexically odd ones and hostile shapes.
var fuzzQueries = []string{
	`{ countries(first: 1) { totalCount } }`,
	`{ me { id } }`,
	"# a comment\n{ a }",
	`query Q($n: Int = 3) { users(first: $n) { totalCount } }`,
	`{ a(s: "a string with { braces }") }`,
	`{ a(s: """block "" string with \""" escape""") }`,
	`{ "unterminated`,
	`{ a(s: "\u00e9\uD83D\uDE00") }`,
	`{ a(s: "\x") }`,
	`{ a(f: 1.5e10, g: -0, h: 0x1F, i: 1.) }`,
	`{ ... on Query { __typename } }`,
	`query ($a: [[Int!]]! = [[1], [2]]) { x(a: $a) @include(if: true) }`,
	`{ users(first: 1000) { edges { node { id profile { segment ltv } } } } }`,
	`{ cities(first: 12) { edges { node { name country { code cities(first: 3) { edges { node { name } } } } } } } }`,
	`{ countries(first: 1000) { edges { node { cities(first: 1000) { edges { node { users(first: 1000) { totalCount } } } } } } } }`,
	`query { countries(first: 1) { ...A } } fragment A on CountryConnection { totalCount ...B } fragment B on CountryConnection { ...A }`,
	`{ a: userStats { total } b: userStats { total } c: userStats { total } }`,
	`mutation($in: [TrackEventInput!]!) { trackEvents(inputs: $in) { inserted rejected } }`,
	`subscription { eventTracked(filter: {types: ["purchase"], country: "UA"}) { id type userId geo { city } } }`,
	strings.Repeat("{ a ", 200) + strings.Repeat("}", 200),
	"\ufeff{ a }",
	"{ a }\x00",
	"\"\"\"\n",
	"",
}

// FuzzCountTokens checks the token count taken before parsing: ok means
// the count is within the limit and equals the full count; a refusal stops
// exactly one past the limit; and, for a query the parser accepts, the
// count is the parser's own (it accepts the query under a limit of n
// tokens and refuses it under n-1), so that the limit and gqlgen agree.
func FuzzCountTokens(f *testing.F) {
	for i, q := range fuzzQueries {
		f.Add(q, []int{0, 1, 5, 6, 100, -1}[i%6])
	}
	f.Fuzz(func(t *testing.T, q string, limit int) {
		full, ok := limits.CountTokens(q, 0)
		if !ok || full < 0 {
			t.Fatalf("CountTokens(%q, 0) = %d, %v", q, full, ok)
		}
		if full > len(q) {
			t.Fatalf("CountTokens(%q) = %d tokens in %d bytes", q, full, len(q))
		}
		n, ok := limits.CountTokens(q, limit)
		switch {
		case limit <= 0:
			if !ok || n != full {
				t.Fatalf("CountTokens(%q, %d) = %d, %v; no limit gives %d", q, limit, n, ok, full)
			}
		case ok:
			if n > limit || n != full {
				t.Fatalf("CountTokens(%q, %d) = %d, true; full count %d", q, limit, n, full)
			}
		default:
			if n != limit+1 || full <= limit {
				t.Fatalf("CountTokens(%q, %d) = %d, false; full count %d", q, limit, n, full)
			}
		}
		if full > 0 {
			if n, ok := limits.CountTokens(q, full-1); ok && full-1 > 0 || !ok && n != full {
				t.Fatalf("CountTokens(%q, %d) = %d, %v with %d tokens", q, full-1, n, ok, full)
			}
		}
		if _, err := parser.ParseQuery(&ast.Source{Input: q}); err != nil {
			return
		}
		if _, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, full); err != nil {
			t.Fatalf("%q: %d tokens counted, but the parser refuses that limit: %v", q, full, err)
		}
		if full > 1 {
			if _, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, full-1); err == nil {
				t.Fatalf("%q: %d tokens counted, but the parser accepts %d", q, full, full-1)
			}
		}
	})
}

// FuzzMeasure runs the query analysis on the real schema, on documents that
// validate (as in gqlgen) and on documents that only parse (Measure must
// not fail on those either: unknown fragments, cycles). Properties: it
// terminates, every number is non-negative and the same on a second run;
// the depth is at most the number of tokens (a path cannot reuse a field
// without a fragment cycle); a page-size argument it reports is one the
// client passed; and Check answers with a coded error or none.
func FuzzMeasure(f *testing.F) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	cfg := limits.DefaultConfig()
	for i, q := range fuzzQueries {
		f.Add(q, []byte([]string{``, `{"n": 5}`, `{"n": 1e300}`, `{"n": -3}`, `{"n": "7"}`, `{"first": 2147483648}`}[i%6]))
	}
	f.Add(`query($n: Int) { countries(first: $n) { edges { node { cities(first: $n) { totalCount } } } } }`, []byte(`{"n": 1000000000000}`))
	f.Add(`query($n: Int) { users(first: $n) { totalCount } }`, []byte(`{"n": 9223372036854775807}`))
	f.Add(`{ __schema { types { name fields { name type { name ofType { name ofType { name } } } } } } }`, []byte(nil))
	f.Add(`{ users(first: 10) { ...U } } fragment U on UserConnection { edges { node { id ...V } } } fragment V on User { orders { totalCount } }`, []byte(nil))
	f.Fuzz(func(t *testing.T, q string, varsJSON []byte) {
		if len(q) > 4096 {
			return // the token limit refuses long queries before they are measured
		}
		var vars map[string]any
		if len(varsJSON) > 0 {
			d := json.NewDecoder(bytes.NewReader(varsJSON))
			d.UseNumber() // as gqlgen decodes variables
			_ = d.Decode(&vars)
		}
		tokens, _ := limits.CountTokens(q, 0)
		measure := func(doc *ast.QueryDocument) {
			for _, op := range doc.Operations {
				r := limits.Measure(schema, doc, op, vars, cfg)
				if r.Depth < 0 || r.Cost < 0 || r.Aliases < 0 {
					t.Fatalf("Measure(%q) = %+v", q, r)
				}
				if r.Depth > tokens {
					t.Fatalf("Measure(%q): depth %d with %d tokens", q, r.Depth, tokens)
				}
				if again := limits.Measure(schema, doc, op, vars, cfg); !reflect.DeepEqual(again, r) {
					t.Fatalf("Measure(%q) twice: %+v then %+v", q, r, again)
				}
				if r.Page != nil {
					if r.Page.Arg == "" || r.Page.Field == "" || !strings.Contains(q, r.Page.Arg) {
						t.Fatalf("Measure(%q) reports page argument %+v", q, r.Page)
					}
				}
				if err := cfg.Check(r, op.Position); err != nil {
					if code, _ := err.Extensions["code"].(string); code == "" {
						t.Fatalf("Check(%+v) = %v without a code", r, err)
					}
				}
			}
		}
		doc, errs := gqlparser.LoadQuery(schema, q)
		if len(errs) == 0 {
			measure(doc)
		} else {
			for _, e := range errs {
				checkGQLError(t, q, e)
			}
		}
		if raw, err := parser.ParseQuery(&ast.Source{Input: q}); err == nil {
			measure(raw)
		}
	})
}

func checkGQLError(t *testing.T, q string, e *gqlerror.Error) {
	t.Helper()
	if e == nil || e.Message == "" {
		t.Fatalf("LoadQuery(%q) reported an empty error", q)
	}
}
