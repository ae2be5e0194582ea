package limits

import (
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// testSDL is a small schema with the shapes the analysis cares about: entgql
// Relay connections, plain lists with a page argument (with and without a
// schema default), lists without one, scalar lists, an interface.
const testSDL = `
type Query {
  users(first: Int, last: Int, after: String): UserConnection!
  countries(limit: Int): [Country!]!
  events(limit: Int = 20): [Event!]!
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
  me: User
}
interface Node { id: ID! }
type PageInfo { hasNextPage: Boolean! endCursor: String }
type UserConnection { edges: [UserEdge] pageInfo: PageInfo! totalCount: Int! }
type UserEdge { node: User cursor: String! }
type User implements Node {
  id: ID!
  name: String!
  tags: [String!]!
  friends(first: Int): UserConnection!
  orders: [Order!]!
}
type Order { id: ID! total: Float! items(limit: Int): [Item!]! }
type Item { sku: String! }
type Country { code: String! cities(limit: Int): [City!]! }
type City { name: String! country: Country! }
type Event { kind: String! }
`

func testSchema(t testing.TB) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "test.graphql", Input: testSDL})
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	return s
}

// load parses and validates q against the test schema, as gqlgen does
// before the extension runs.
func load(t testing.TB, s *ast.Schema, q string) (*ast.QueryDocument, *ast.OperationDefinition) {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(s, q, nil)
	if len(errs) > 0 {
		t.Fatalf("query does not validate: %v", errs)
	}
	return doc, doc.Operations[0]
}

// measureQuery loads q and measures it with cfg.
func measureQuery(t testing.TB, cfg Config, q string, vars map[string]any) Report {
	t.Helper()
	s := testSchema(t)
	doc, op := load(t, s, q)
	return Measure(s, doc, op, vars, cfg)
}
