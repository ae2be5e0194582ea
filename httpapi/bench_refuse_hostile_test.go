package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/httpapi/limits"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
)

// BenchmarkRefuseHostile: end to end over HTTP, how long the server takes
// to refuse each kind of abusive query (the issue asks for under 10 ms).
func BenchmarkRefuseHostile(b *testing.B) {
	cfg := limits.DefaultConfig()
	c := gqltest.Serve(b, httpapi.Deps{DB: testdb.Open(b, "sqlite"), Auth: gqltest.Grant(auth.Viewer), Limits: &cfg})
	var aliases strings.Builder
	aliases.WriteString("{")
	for i := range 200 {
		fmt.Fprintf(&aliases, " a%d: countries(first: 1) { totalCount }", i)
	}
	aliases.WriteString(" }")
	deep := "code"
	for range 20 {
		deep = "cities(first: 1) { edges { node { country { " + deep + " } } } }"
	}
	for name, q := range map[string]string{
		"deep":    "{ countries(first: 1) { edges { node { " + deep + " } } } }",
		"aliases": aliases.String(),
		"cost":    `{ countries(first: 1000) { edges { node { cities(first: 1000) { edges { node { users(first: 1000) { totalCount } } } } } } } }`,
		"tokens":  "{ countries(first: 1) { totalCount " + strings.Repeat("__typename ", 20000) + "} }",
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if r := c.Do(q, nil); len(r.Errors) == 0 {
					b.Fatalf("%s accepted", name)
				}
			}
		})
	}
}
