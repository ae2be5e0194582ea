package httpapi_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/seed"
)

// compiledCase is one read run both ways; stmts is what the compiled path
// must send (one per root field; 0: not compiled, as many as the
// resolvers).
type compiledCase struct {
	name  string
	query string
	vars  map[string]any
	stmts int64
}

// TestCompiledReadsAnswerAsTheResolvers is the compiler's differential
// test: every shape runs on two servers over the same PostgreSQL data, one
// compiling reads (package sqlread), one resolving them, and both must
// answer the same data. The compiled ones must take one statement; the
// shapes the compiler leaves to the resolvers must still answer the same.
func TestCompiledReadsAnswerAsTheResolvers(t *testing.T) {
	db := testdb.Open(t, "postgres")
	ctx := context.Background()
	if _, err := seed.Generate(ctx, db.Client, seed.Options{Users: 300, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	// A time with a fraction of a second, and a user without an address,
	// so that both formats and the null to-one edge are compared.
	first, err := db.Client.User.Query().Order(user.ByID()).First(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Driver.ExecContext(ctx, `UPDATE users SET created_at = $1, address_id = NULL WHERE id = $2`,
		time.Date(2025, 3, 4, 5, 6, 7, 123450000, time.UTC), first.ID); err != nil {
		t.Fatal(err)
	}
	var someone struct {
		Users struct {
			Edges []struct{ Node struct{ Username string } }
		}
		Countries struct {
			Edges []struct{ Node struct{ Code string } }
		}
	}
	compiled := gqltest.Serve(t, httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Analyst)})
	resolved := gqltest.Serve(t, httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Analyst), NoCompiledReads: true})
	resolved.MustDo(`{ users(first: 1, orderBy: {field: TOTAL_SPENT, direction: DESC}) { edges { node { username } } }
		countries(first: 1, where: {hasCitiesWith: {hasAddressesWith: {hasUsers: true}}}) { edges { node { code } } } }`, nil, &someone)
	rich := someone.Users.Edges[0].Node.Username
	code := someone.Countries.Edges[0].Node.Code

	for _, tc := range []compiledCase{
		{name: "W1 countries → cities → users → address", stmts: 1, query: `{
			countries(first: 10, orderBy: {field: CODE}) { edges { node { code
				cities(first: 20, orderBy: {field: NAME}) { edges { node { name
					users(first: 10) { edges { node { username address { street postalCode } } } } } } } } } } }`},
		{name: "W2 user → address → city → country, every scalar type", stmts: 1, vars: map[string]any{"u": rich}, query: `query($u: String!) {
			user(username: $u) { id username email createdAt lastActiveAt totalSpent addressID
				address { id street postalCode cityID city { id name latitude longitude population countryID
					country { id code name continent } } }
				orders(first: 5, orderBy: {field: CREATED_AT, direction: DESC}) { totalCount pageInfo { hasNextPage hasPreviousPage }
					edges { node { id quantity amount createdAt userID productID product { sku name category price } } } } } }`},
		{name: "W4 top users by spend → city → country", stmts: 1, query: `{
			users(first: 20, orderBy: {field: TOTAL_SPENT, direction: DESC}) { totalCount pageInfo { hasNextPage hasPreviousPage }
				edges { node { username totalSpent address { city { name country { name } } } } } } }`},
		{name: "a fractional time and a user without address", stmts: 1, query: `{
			users(first: 3) { edges { node { id createdAt address { street } } } } }`},
		{name: "where on every level, edge predicates", stmts: 2, query: `{
			countries(first: 50, where: {hasCitiesWith: {populationGT: 100000}}) { totalCount pageInfo { hasNextPage }
				edges { node { code cities(first: 3, where: {nameContainsFold: "a"}, orderBy: {field: POPULATION, direction: DESC}) {
					totalCount edges { node { name population } } } } } }
			users(first: 50, where: {or: [{usernameHasPrefix: "a"}, {totalSpentGT: 500}], not: {emailContains: "zz"}}) {
				totalCount edges { node { username totalSpent } } } }`},
		{name: "aliases, fragments, __typename, @include", stmts: 1, vars: map[string]any{"with": true, "without": false}, query: `
			query($with: Boolean!, $without: Boolean!) {
				a: countries(first: 3, orderBy: {field: NAME, direction: DESC}) { __typename
					edges { __typename node { __typename ...C } } }
			}
			fragment C on Country { id code n: name ... on Node { nodeID: id }
				cities(first: 2) @include(if: $with) { __typename totalCount pageInfo { __typename hasNextPage }
					edges { node { name ... on City { population } } } }
				skipped: cities(first: 1) @include(if: $without) { totalCount } }`},
		{name: "two-hop users of a country and a city", stmts: 1, vars: map[string]any{"c": code}, query: `query($c: String!) {
			country(code: $c) { name
				users(first: 5, orderBy: {field: USERNAME, direction: DESC}, where: {emailContains: "@"}) {
					totalCount pageInfo { hasNextPage } edges { node { username } } }
				cities(first: 3, orderBy: {field: POPULATION, direction: DESC}) { edges { node { name
					users { totalCount edges { node { username address { city { name } } } } } } } } } }`},
		{name: "lookups by a lower-case code, and not found", stmts: 1, vars: map[string]any{"c": " " + code + " "}, query: `query($c: String!) {
			country(code: $c) { code } }`},
		{name: "not found", stmts: 1, query: `{ user(username: "nobody-here") { username } }`},
		{name: "empty connection", stmts: 1, query: `{
			users(where: {username: "nobody-here"}) { totalCount pageInfo { hasNextPage } edges { node { id } } } }`},
		{name: "edges without first: every row", stmts: 1, query: `{
			cities(first: 1, orderBy: {field: POPULATION, direction: DESC}) { edges { node { name
				addresses { totalCount pageInfo { hasNextPage } edges { node { street users { edges { node { username } } } } } } } } } }`},
		{name: "products → orders → user; orders → product", stmts: 2, query: `{
			products(first: 5, orderBy: {field: PRICE, direction: DESC}) { edges { node { sku price
				orders(first: 2) { edges { node { amount user { username } } } } } } }
			orders(first: 10) { edges { node { id quantity amount createdAt user { username } product { sku } } } } }`},
		{name: "cursors stay with the resolvers", query: `{
			users(first: 5) { pageInfo { endCursor hasNextPage } edges { cursor node { username } } } }`},
		{name: "a computed field stays with the resolvers", query: `{
			countries(first: 3) { edges { node { code stats { userCount } } } } }`},
		{name: "LAST_ACTIVE_AT stays with the resolvers", query: `{
			users(first: 5, orderBy: {field: LAST_ACTIVE_AT, direction: DESC}) { edges { node { username lastActiveAt } } } }`},
		{name: "last stays with the resolvers", query: `{ countries(last: 2) { edges { node { code } } } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := resolved.Do(tc.query, tc.vars)
			got := compiled.Do(tc.query, tc.vars)
			if len(want.Errors) > 0 || len(got.Errors) > 0 {
				t.Fatalf("errors: resolvers %+v, compiled %+v", want.Errors, got.Errors)
			}
			var w, g any
			if err := json.Unmarshal(want.Data, &w); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got.Data, &g); err != nil {
				t.Fatalf("compiled data is not JSON: %v\n%s", err, got.Data)
			}
			if !reflect.DeepEqual(w, g) {
				t.Fatalf("answers differ\nresolvers: %s\ncompiled:  %s", clip(want.Data), clip(got.Data))
			}
			if tc.stmts > 0 && got.Extensions.SQLStatements != tc.stmts {
				t.Errorf("compiled path ran %d statements, want %d (resolvers: %d)", got.Extensions.SQLStatements, tc.stmts, want.Extensions.SQLStatements)
			}
			if tc.stmts == 0 && got.Extensions.SQLStatements != want.Extensions.SQLStatements {
				t.Errorf("left to the resolvers, it ran %d statements; the resolvers alone %d", got.Extensions.SQLStatements, want.Extensions.SQLStatements)
			}
		})
	}
}

func clip(b []byte) string {
	if len(b) > 1500 {
		return string(b[:1500]) + "…"
	}
	return string(b)
}
