package limits

import (
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

func TestCountTokens(t *testing.T) {
	cases := []struct {
		q     string
		limit int
		n     int
		ok    bool
	}{
		{`{ me { id } }`, 0, 6, true},
		{`{ me { id } }`, 6, 6, true},
		{`{ me { id } }`, 5, 6, false},
		{"# a comment\n{ a }", 0, 4, true},
		{`query Q($n: Int = 3) { users(first: $n) { totalCount } }`, 0, 22, true},
		{`{ a(s: "a string with { braces }") }`, 0, 8, true},
		{``, 10, 0, true},
		{`{ "unterminated`, 10, 1, true}, // the parser reports the lexical error
	}
	for _, c := range cases {
		n, ok := CountTokens(c.q, c.limit)
		if n != c.n || ok != c.ok {
			t.Errorf("CountTokens(%q, %d) = %d, %v; want %d, %v", c.q, c.limit, n, ok, c.n, c.ok)
		}
	}
}

// CountTokens must agree with the parser's own limit: a query that passes
// the count parses under the same limit, one that does not fails it.
func TestCountTokensMatchesParser(t *testing.T) {
	for _, q := range []string{
		`{ me { id } }`,
		"# comment\n# another\nquery Q($n: Int = 3) { users(first: $n) { totalCount } } # trailing",
		`{ a: me { id ...F } } fragment F on User { name friends(first: 2) { edges { node { id } } } }`,
		`mutation { x(input: {a: [1, 2, 3], b: "s", c: """block"""}) }`,
	} {
		n, _ := CountTokens(q, 0)
		if _, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, n); err != nil {
			t.Errorf("%q: %d tokens counted, but the parser refuses that limit: %v", q, n, err)
		}
		if _, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, n-1); err == nil {
			t.Errorf("%q: %d tokens counted, but the parser accepts %d", q, n, n-1)
		}
	}
}

// Refusing a huge query must cost the limit, not the size of the query.
func TestCountTokensStopsEarly(t *testing.T) {
	huge := "{ " + strings.Repeat("a ", 5_000_000) + "}" // 10 MB
	start := time.Now()
	n, ok := CountTokens(huge, 5000)
	if ok || n != 5001 {
		t.Fatalf("CountTokens = %d, %v; want 5001, false", n, ok)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("refusing took %v", d)
	}
}
