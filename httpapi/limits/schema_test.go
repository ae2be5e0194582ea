package limits

import (
	"fmt"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/graph"
)

// TestProductionLimitsOnMeridiansSchema: with the production defaults,
// each kind of abusive query against Meridian's own schema is refused
// with its code before anything runs, while an ordinary nested read is
// let through. (httpapi's flow tests check that the server applies the
// extension; the GraphQL-over-HTTP refusals are theirs too.)
func TestProductionLimitsOnMeridiansSchema(t *testing.T) {
	ts := newServerOn(t, graph.NewExecutableSchema(graph.Config{}).Schema(), DefaultConfig()) // introspection off, depth 12

	// countries → cities → country → cities → …: 4 levels per round trip.
	deep := "code"
	for range 4 {
		deep = "cities(first: 1) { edges { node { country { " + deep + " } } } }"
	}
	deep = "{ countries(first: 1) { edges { node { " + deep + " } } } }"
	var aliases strings.Builder
	aliases.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&aliases, " a%d: countries(first: 1) { totalCount }", i)
	}
	aliases.WriteString(" }")
	tokens := "{ countries(first: 1) { totalCount " + strings.Repeat("__typename ", 5100) + "} }"
	for name, tc := range map[string]struct{ query, code string }{
		"deep nesting":   {deep, CodeTooDeep},
		"alias flood":    {aliases.String(), CodeTooManyAliases},
		"huge first":     {`{ countries(first: 100000) { totalCount } }`, CodeBadUserInput},
		"costly nesting": {`{ countries(first: 1000) { edges { node { cities(first: 1000) { edges { node { name } } } } } } }`, CodeTooComplex},
		"token flood":    {tokens, CodeTooManyTokens},
		"introspection":  {`{ __schema { types { name } } }`, CodeIntrospectionDisabled},
	} {
		r := post(t, ts, tc.query, nil)
		if r.Data != nil || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != tc.code {
			t.Errorf("%s: data %v, errors %+v; want one %s and no data", name, r.Data, r.Errors, tc.code)
		}
	}
	r := post(t, ts, `{ countries(first: 10) { edges { node { code cities(first: 20) { edges { node { name } } } } } } }`, nil)
	if len(r.Errors) > 0 || r.Data == nil {
		t.Errorf("an ordinary nested read: %+v, want it accepted", r)
	}
}
