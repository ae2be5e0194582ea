package limits

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// analyse measures and checks q as the extension does.
func analyse(t testing.TB, cfg Config, q string, vars map[string]any) *gqlerror.Error {
	t.Helper()
	s := testSchema(t)
	doc, op := load(t, s, q)
	return cfg.Check(Measure(s, doc, op, vars, cfg), op.Position)
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name  string
		cfg   func(*Config)
		query string
		vars  map[string]any
		code  string
		ext   map[string]any // expected extensions besides code
	}{
		{
			name:  "within every limit",
			query: `{ users(first: 10) { edges { node { id name } } } }`,
		},
		{
			name:  "too deep",
			cfg:   func(c *Config) { c.MaxDepth = 3 },
			query: `{ users(first: 10) { edges { node { id } } } }`,
			code:  CodeTooDeep,
			ext:   map[string]any{"depth": 4, "maxDepth": 3},
		},
		{
			name:  "default depth limit",
			query: `{ me { friends { edges { node { friends { edges { node { friends { edges { node { friends { edges { node { id } } } } } } } } } } } } } }`,
			code:  CodeTooDeep,
			ext:   map[string]any{"depth": 14, "maxDepth": 12},
		},
		{
			name: "too complex",
			// node 2, inner edges 1+1000*2, friends 2002, node 2003,
			// edges 1+1000*2003, users 2003002
			query: `{ users(first: 1000) { edges { node { friends(first: 1000) { edges { node { id } } } } } } }`,
			code:  CodeTooComplex,
			ext:   map[string]any{"cost": 2003002, "maxCost": 50000},
		},
		{
			name:  "too many aliases",
			cfg:   func(c *Config) { c.MaxAliases = 2 },
			query: `{ a: me { id } b: me { id } c: me { id } }`,
			code:  CodeTooManyAliases,
			ext:   map[string]any{"aliases": 3, "maxAliases": 2},
		},
		{
			name:  "first above the cap, literal",
			query: `{ users(first: 1001) { totalCount } }`,
			code:  CodeBadUserInput,
			ext:   map[string]any{"field": "Query.users", "argument": "first", "value": 1001, "maxFirst": 1000},
		},
		{
			name:  "limit above the cap, through a variable in a fragment",
			query: `query($n: Int) { ...Q } fragment Q on Query { countries(limit: $n) { code } }`,
			vars:  map[string]any{"n": int64(5000)},
			code:  CodeBadUserInput,
			ext:   map[string]any{"field": "Query.countries", "argument": "limit", "value": 5000, "maxFirst": 1000},
		},
		{
			name:  "first at the cap passes the cap (and the cost)",
			query: `{ users(first: 1000) { edges { node { id } } } }`,
		},
		{
			name:  "introspection disabled",
			query: `{ __schema { queryType { name } } }`,
			code:  CodeIntrospectionDisabled,
			ext:   map[string]any{"field": "__schema"},
		},
		{
			name:  "introspection enabled",
			cfg:   func(c *Config) { c.Introspection = true },
			query: `{ __type(name: "User") { name } }`,
		},
		{
			name:  "introspection deeper than the depth limit allows",
			cfg:   func(c *Config) { c.Introspection = true },
			query: `{ __type(name: "User") { name ` + strings.Repeat("ofType { name ", 20) + strings.Repeat("} ", 20) + `} }`,
			// __type 1, 20 × ofType, name
			code: CodeTooDeep,
			ext:  map[string]any{"depth": 22, "maxDepth": IntrospectionDepth},
		},
		{
			name: "introspection as deep as GraphiQL's passes a lower MaxDepth",
			cfg:  func(c *Config) { c.Introspection = true; c.MaxDepth = 5 },
			// __schema, types, fields, args, type, 9 × ofType, name: 15
			query: `{ __schema { types { fields { args { type { name ` + strings.Repeat("ofType { name ", 9) + strings.Repeat("} ", 9) + `} } } } } }`,
		},
		{
			name:  "a higher MaxDepth raises the introspection limit too",
			cfg:   func(c *Config) { c.Introspection = true; c.MaxDepth = 30 },
			query: `{ __type(name: "User") { name ` + strings.Repeat("ofType { name ", 20) + strings.Repeat("} ", 20) + `} }`,
		},
		{
			name:  "__typename is not introspection",
			query: `{ __typename }`,
		},
		{
			name: "limits at zero are off",
			cfg:  func(c *Config) { *c = Config{Introspection: true} },
			query: `query($n: Int) { a: users(first: $n) { edges { node { friends(first: $n) { edges { node {
				friends(first: $n) { edges { node { id } } } } } } } } } }`,
			vars: map[string]any{"n": int64(1_000_000)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			err := analyse(t, cfg, tc.query, tc.vars)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check = nil, want %s", tc.code)
			}
			if got := err.Extensions["code"]; got != tc.code {
				t.Fatalf("code = %v, want %s (%v)", got, tc.code, err)
			}
			for k, v := range tc.ext {
				if got := err.Extensions[k]; got != v {
					t.Errorf("extensions.%s = %#v, want %#v", k, got, v)
				}
			}
			if len(err.Locations) == 0 {
				t.Errorf("error has no location: %v", err)
			}
			t.Logf("%s", err.Message)
		})
	}
}

// An oversized first inflates the cost too; the client should be told
// about the argument, which it can fix.
func TestCheckReportsFirstBeforeCost(t *testing.T) {
	err := analyse(t, DefaultConfig(), `{ users(first: 100000) { edges { node { id } } } }`, nil)
	if err == nil || err.Extensions["code"] != CodeBadUserInput {
		t.Fatalf("Check = %v, want %s", err, CodeBadUserInput)
	}
	if !strings.Contains(err.Message, "first") || !strings.Contains(err.Message, "1000") {
		t.Errorf("message %q does not name the argument and the maximum", err.Message)
	}
	if loc := err.Locations; len(loc) != 1 || loc[0].Line != 1 || loc[0].Column != 9 {
		t.Errorf("locations = %+v, want the argument at 1:9", loc)
	}
}

func TestDescribe(t *testing.T) {
	got := Describe(DefaultConfig())
	want := "depth=12 cost=50000 aliases=30 tokens=5000 first=1000 defaultList=100 pageArgs=first,last,limit introspection=off"
	if got != want {
		t.Errorf("Describe = %q\nwant       %q", got, want)
	}
	if got := Describe(Config{Introspection: true}); !strings.Contains(got, "depth=off") || !strings.HasSuffix(got, "introspection=on") {
		t.Errorf("Describe(zero) = %q", got)
	}
}

func TestCheckNilPosition(t *testing.T) {
	err := DefaultConfig().Check(Report{Depth: 99}, nil)
	if err == nil || err.Extensions["code"] != CodeTooDeep {
		t.Fatalf("Check = %v", err)
	}
	if len(err.Locations) != 0 {
		t.Errorf("locations = %+v, want none", err.Locations)
	}
}
