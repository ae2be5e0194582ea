package limits

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// The expected numbers are worked out by hand in the comments: a field costs
// 1 plus its children times the number of elements it resolves them for.
func TestMeasure(t *testing.T) {
	cases := []struct {
		name    string
		cfg     func(*Config)
		query   string
		vars    map[string]any
		depth   int
		cost    int
		aliases int
	}{
		{
			name:  "single object",
			query: `{ me { id name } }`,
			// me 1 + id 1 + name 1
			depth: 2, cost: 3,
		},
		{
			name:  "connection multiplies edges once, not pageInfo or totalCount",
			query: `{ users(first: 10) { totalCount pageInfo { hasNextPage } edges { cursor node { id name } } } }`,
			// node 3, edges 1+10*(cursor 1 + node 3)=41, pageInfo 2, totalCount 1, users 1+44
			depth: 4, cost: 45,
		},
		{
			name:  "nested connections multiply",
			query: `{ users(first: 10) { edges { node { friends(first: 5) { edges { node { name } } } } } } }`,
			// inner node 2, inner edges 1+5*2=11, friends 12, node 13, edges 1+10*13=131, users 132
			depth: 7, cost: 132,
		},
		{
			name:  "last counts like first",
			query: `{ users(last: 3) { edges { node { id } } } }`,
			// node 2, edges 1+3*2=7, users 8
			depth: 4, cost: 8,
		},
		{
			name:  "connection without first takes the default list size",
			query: `{ users { edges { node { id } } } }`,
			// node 2, edges 1+100*2=201, users 202
			depth: 4, cost: 202,
		},
		{
			name:  "first 0 is a page size, not an absent one",
			query: `{ users(first: 0) { totalCount edges { node { id } } } }`,
			// edges 1+0*2=1, totalCount 1, users 3
			depth: 4, cost: 3,
		},
		{
			name:  "plain list with limit from a variable",
			query: `query($n: Int) { countries(limit: $n) { code cities(limit: 3) { name } } }`,
			vars:  map[string]any{"n": int64(7)},
			// cities 1+3*1=4, country 1+4=5 per element, countries 1+7*5=36
			depth: 3, cost: 36,
		},
		{
			name:  "variable not given falls back to the default list size",
			query: `query($n: Int) { countries(limit: $n) { code cities(limit: 3) { name } } }`,
			// countries 1+100*5=501
			depth: 3, cost: 501,
		},
		{
			name:  "variable default value",
			query: `query($n: Int = 4) { countries(limit: $n) { code } }`,
			// countries 1+4*1=5
			depth: 2, cost: 5,
		},
		{
			name:  "schema default of the page argument",
			query: `{ events { kind } }`,
			// events 1+20*1
			depth: 2, cost: 21,
		},
		{
			name:  "list without page argument takes the default list size",
			query: `{ me { orders { id items(limit: 2) { sku } } } }`,
			// items 1+2*1=3, order 1+3=4, orders 1+100*4=401, me 402
			depth: 4, cost: 402,
		},
		{
			name:  "list size override per field",
			cfg:   func(c *Config) { c.ListSizes = map[string]int{"User.orders": 5} },
			query: `{ me { orders { id items(limit: 2) { sku } } } }`,
			// orders 1+5*4=21, me 22
			depth: 4, cost: 22,
		},
		{
			name:  "scalar list costs one",
			query: `{ me { tags } }`,
			depth: 2, cost: 2,
		},
		{
			name: "fragments count through, with their depth",
			query: `query { users(first: 2) { edges { node { ...U } } } }
				fragment U on User { id ...V }
				fragment V on User { name friends(first: 3) { edges { node { id } } } }`,
			// friends: node 2, edges 1+3*2=7, friends 8; V 1+8=9; U 1+9=10;
			// node 11, edges 1+2*11=23, users 24. Depth: users edges node
			// friends edges node id = 7.
			depth: 7, cost: 24,
		},
		{
			name:  "inline fragment adds no level",
			query: `{ node(id: 1) { id ... on User { name } } }`,
			depth: 2, cost: 3,
		},
		{
			name: "a fragment on a connection gets the connection's page size",
			query: `{ a: users(first: 4) { ...C } b: users(first: 2) { ...C } }
				fragment C on UserConnection { edges { node { id } } }`,
			// a: edges 1+4*2=9, a 10; b: edges 1+2*2=5, b 6
			depth: 4, cost: 16, aliases: 2,
		},
		{
			name:  "aliases differing from the field name count, with fragments expanded",
			query: `{ a: me { id } b: me { x: id ...N } me { id: id } } fragment N on User { y: name }`,
			// a 2, b 3 (b, x, y), me 2; aliases a, b, x, y ("id: id" is none)
			depth: 2, cost: 7, aliases: 4,
		},
		{
			name:  "__typename is a field",
			query: `{ __typename me { __typename } }`,
			depth: 2, cost: 3,
		},
		{
			name:  "a list argument longer than the assumed size sets the element count",
			cfg:   func(c *Config) { c.DefaultListSize = 2 },
			query: `{ nodes(ids: ["1", "2", "3"]) { id } }`,
			// nodes 1 + 3 × id 1
			depth: 2, cost: 4,
		},
		{
			name:  "a list argument in a variable counts by its length",
			cfg:   func(c *Config) { c.DefaultListSize = 2 },
			query: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			vars:  map[string]any{"ids": []any{"1", "2", "3", "4", "5"}},
			// nodes 1 + 5 × id 1
			depth: 2, cost: 6,
		},
		{
			name:  "a list argument's variable default counts when the request leaves it out",
			cfg:   func(c *Config) { c.DefaultListSize = 2 },
			query: `query($ids: [ID!]! = ["1", "2", "3"]) { nodes(ids: $ids) { id } }`,
			depth: 2, cost: 4,
		},
		{
			name:  "a short list argument keeps the assumed size (an upper bound)",
			query: `{ nodes(ids: ["1"]) { id } }`,
			// nodes 1 + 100 × id 1
			depth: 2, cost: 101,
		},
		{
			name:  "introspection subtrees are not costed",
			cfg:   func(c *Config) { c.Introspection = true },
			query: `{ __schema { types { name fields { name type { name ofType { name } } } } } }`,
			depth: 1, cost: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			r := measureQuery(t, cfg, tc.query, tc.vars)
			if r.Depth != tc.depth || r.Cost != tc.cost || r.Aliases != tc.aliases {
				t.Errorf("depth/cost/aliases = %d/%d/%d, want %d/%d/%d",
					r.Depth, r.Cost, r.Aliases, tc.depth, tc.cost, tc.aliases)
			}
		})
	}
}

func TestMeasurePageArgument(t *testing.T) {
	cfg := DefaultConfig()
	q := `query($n: Int, $m: Int) {
		users(first: 5) { edges { node { friends(first: $n) { totalCount } } } }
		countries(limit: $m) { code }
		events { kind }
	}`
	r := measureQuery(t, cfg, q, map[string]any{"n": int64(40), "m": int64(9)})
	if r.Page == nil || r.Page.Value != 40 || r.Page.Arg != "first" || r.Page.Field != "User.friends" {
		t.Fatalf("Page = %+v, want the largest explicit value, first=40 on User.friends", r.Page)
	}
	if r.Page.Position == nil || r.Page.Position.Line != 2 {
		t.Errorf("Page.Position = %+v, want line 2", r.Page.Position)
	}

	// Schema defaults are not client input.
	if r := measureQuery(t, cfg, `{ events { kind } }`, nil); r.Page != nil {
		t.Errorf("Page = %+v for a schema default, want nil", r.Page)
	}
}

func TestMeasureIntrospection(t *testing.T) {
	cfg := DefaultConfig()
	for q, want := range map[string]string{
		`{ __schema { queryType { name } } }`:         "__schema",
		`{ me { id } __type(name: "User") { name } }`: "__type",
		`{ __typename }`: "",
		`{ ...Q } fragment Q on Query { __schema { description } }`: "__schema",
	} {
		r := measureQuery(t, cfg, q, nil)
		got := ""
		if r.Introspection != nil {
			got = r.Introspection.Name
		}
		if got != want {
			t.Errorf("%s: introspection field %q, want %q", q, got, want)
		}
	}
}

// A fragment cycle is a validation error, but Measure must not recurse
// forever on a document that skipped validation.
// Introspection is costed as one field but its depth is measured, through
// fragments, apart from Depth.
func TestMeasureIntrospectionDepth(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Introspection = true
	cases := map[string]int{
		`{ me { id } }`:                                           0,
		`{ __type(name: "User") { name } }`:                       2,
		`{ __type(name: "User") { ofType { ofType { name } } } }`: 4,
		`{ __schema { types { ...T } } } fragment T on __Type { ofType { ofType { name } } }`: 5,
		`{ me { id } __schema { queryType { name } } }`:                                       3,
	}
	for q, want := range cases {
		r := measureQuery(t, cfg, q, nil)
		if r.IntrospectionDepth != want {
			t.Errorf("%s: IntrospectionDepth = %d, want %d", q, r.IntrospectionDepth, want)
		}
		if r.Introspection != nil && (r.Depth > 2 || r.Cost > 3) {
			t.Errorf("%s: depth/cost = %d/%d: introspection subtrees should not count", q, r.Depth, r.Cost)
		}
	}
}

func TestMeasureFragmentCycleTerminates(t *testing.T) {
	doc, err := parser.ParseQuery(&ast.Source{Input: `
		query { me { ...A } }
		fragment A on User { ...B }
		fragment B on User { id ...A }`})
	if err != nil {
		t.Fatal(err)
	}
	r := Measure(testSchema(t), doc, doc.Operations[0], nil, DefaultConfig())
	// Unvalidated: no definitions, so every field is a single object. me 1 +
	// B's id 1; the spread of A inside A's own walk counts nothing.
	if r.Depth != 2 || r.Cost != 2 {
		t.Errorf("depth/cost = %d/%d, want 2/2", r.Depth, r.Cost)
	}
}

// A "fragment bomb" expands to 2^30 fields but is a few hundred bytes long;
// measuring it must stay linear in its length.
func TestMeasureFragmentBombIsLinear(t *testing.T) {
	const levels = 30
	var b strings.Builder
	b.WriteString("query { me { ...F0 } }\n")
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on User { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on User { a: id }\n", levels)
	s := testSchema(t)
	doc, op := load(t, s, b.String())
	start := time.Now()
	r := Measure(s, doc, op, nil, DefaultConfig())
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Measure took %v", d)
	}
	if want := 1 + 1<<levels; r.Cost != want || r.Aliases != 1<<levels || r.Depth != 2 {
		t.Errorf("depth/cost/aliases = %d/%d/%d, want 2/%d/%d", r.Depth, r.Cost, r.Aliases, want, 1<<levels)
	}
	if err := DefaultConfig().Check(r, nil); err == nil || err.Extensions["code"] != CodeTooManyAliases {
		t.Errorf("Check = %v, want %s", err, CodeTooManyAliases)
	}
}

// A cost that overflows int must saturate, not wrap to a negative number
// that passes every limit.
func TestMeasureCostSaturates(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxFirst = 0 // let the huge page sizes through to the cost
	q := `query($n: Int) { users(first: $n) { edges { node { friends(first: $n) { edges { node {
		friends(first: $n) { edges { node { id } } } } } } } } } }`
	r := measureQuery(t, cfg, q, map[string]any{"n": int64(math.MaxInt64)})
	if r.Cost != math.MaxInt {
		t.Fatalf("cost = %d, want saturated at %d", r.Cost, math.MaxInt)
	}
	if err := cfg.Check(r, nil); err == nil || err.Extensions["code"] != CodeTooComplex {
		t.Errorf("Check = %v, want %s", err, CodeTooComplex)
	}
}

func TestMeasureWithoutSchemaUsesConnectionNames(t *testing.T) {
	s := testSchema(t)
	doc, op := load(t, s, `{ users(first: 10) { edges { node { id } } } }`)
	if r := Measure(nil, doc, op, nil, DefaultConfig()); r.Cost != 22 {
		t.Errorf("cost without schema = %d, want 22 as with it", r.Cost)
	}
}

func TestToInt(t *testing.T) {
	cases := []struct {
		in   any
		want int
		ok   bool
	}{
		{int64(5), 5, true},
		{int(6), 6, true},
		{int32(7), 7, true},
		{uint64(math.MaxUint64), math.MaxInt, true},
		{float64(8.9), 8, true},
		{math.Inf(1), math.MaxInt, true},
		{math.NaN(), 0, false},
		{json.Number("11"), 11, true},
		{json.Number("1e3"), 1000, true},
		{"10", 0, false},
		{nil, 0, false},
	}
	for _, c := range cases {
		got, ok := toInt(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("toInt(%#v) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
