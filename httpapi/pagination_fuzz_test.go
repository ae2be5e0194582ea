package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// fuzzConnections are the root connections with an orderBy, and their
// order fields.
var fuzzConnections = []struct {
	name   string
	fields []string
}{
	{"countries", []string{"CODE", "NAME", "CONTINENT"}},
	{"cities", []string{"NAME", "LATITUDE", "LONGITUDE", "POPULATION"}},
	{"users", []string{"USERNAME", "EMAIL", "CREATED_AT", "LAST_ACTIVE_AT", "TOTAL_SPENT"}},
	{"orders", []string{"QUANTITY", "AMOUNT", "CREATED_AT"}},
	{"products", []string{"SKU", "NAME", "CATEGORY", "PRICE"}},
}

// FuzzPagination walks a connection page by page — forward with first and
// after: endCursor, or backward with last and before: startCursor — in any
// order field and direction and page size, and checks the walk against one
// page holding everything: the same nodes in the same order, none skipped
// or repeated, and hasNextPage/hasPreviousPage true exactly while there is
// more. The fixture has zero values in order fields (latitude and
// longitude 0, a user who spent nothing) and ties.
func FuzzPagination(f *testing.F) {
	api := newFuzzAPI(f)
	ctx := f.Context()
	// Ties and zero values: a product priced 0 and one priced like the
	// fixture's, a user who spent nothing.
	if _, err := api.db.Client.Product.Create().SetSku("FREE-0").SetName("Free").SetCategory("misc").SetPrice(0).Save(ctx); err != nil {
		f.Fatal(err)
	}
	if _, err := api.db.Client.Product.Create().SetSku("SKU-2").SetName("Thing").SetCategory("misc").SetPrice(1).Save(ctx); err != nil {
		f.Fatal(err)
	}
	if _, err := api.db.Client.User.Create().SetUsername("zero").SetEmail("zero@example.com").SetTotalSpent(0).Save(ctx); err != nil {
		f.Fatal(err)
	}
	// Every order field, ascending forward and descending backward, in
	// pages of 4; the fuzzer varies the rest. Walks that broke are in
	// testdata/fuzz/FuzzPagination/bug-*.
	for c := range fuzzConnections {
		for fl := range fuzzConnections[c].fields {
			f.Add(uint8(c), uint8(fl), false, uint8(3), false)
			f.Add(uint8(c), uint8(fl), true, uint8(3), true)
		}
	}
	post := func(t *testing.T, q string, vars map[string]any) json.RawMessage {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
		r := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		res, body := fuzzServe(api.h, r)
		var out struct {
			Data   json.RawMessage `json:"data"`
			Errors []any           `json:"errors"`
		}
		if res.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || len(out.Errors) > 0 {
			t.Fatalf("%s %v: status %d %s", q, vars, res.StatusCode, body)
		}
		return out.Data
	}
	type page struct {
		Edges []struct {
			Node struct {
				ID json.Number `json:"id"`
			} `json:"node"`
		} `json:"edges"`
		PageInfo struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       *string
		} `json:"pageInfo"`
	}
	read := func(t *testing.T, conn string, data json.RawMessage) page {
		var m map[string]page
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		return m[conn]
	}
	f.Fuzz(func(t *testing.T, connIdx, fieldIdx uint8, desc bool, size uint8, backward bool) {
		c := fuzzConnections[int(connIdx)%len(fuzzConnections)]
		field := c.fields[int(fieldIdx)%len(c.fields)]
		dir := "ASC"
		if desc {
			dir = "DESC"
		}
		n := 1 + int(size)%4
		order := fmt.Sprintf("orderBy: {field: %s, direction: %s}", field, dir)
		sel := "edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
		all := read(t, c.name, post(t, fmt.Sprintf("{ %s(first: 1000, %s) { %s } }", c.name, order, sel), nil))
		var want []string
		for _, e := range all.Edges {
			want = append(want, e.Node.ID.String())
		}
		var got []string
		var cursor any
		for i := 0; ; i++ {
			if i > len(want)+2 {
				t.Fatalf("%s by %s %s, pages of %d: no end after %d pages (got %v, want %v)", c.name, field, dir, n, i, got, want)
			}
			var q string
			if backward {
				q = fmt.Sprintf("query($c: Cursor) { %s(last: %d, before: $c, %s) { %s } }", c.name, n, order, sel)
			} else {
				q = fmt.Sprintf("query($c: Cursor) { %s(first: %d, after: $c, %s) { %s } }", c.name, n, order, sel)
			}
			p := read(t, c.name, post(t, q, map[string]any{"c": cursor}))
			var ids []string
			for _, e := range p.Edges {
				ids = append(ids, e.Node.ID.String())
			}
			more := p.PageInfo.HasNextPage
			next := p.PageInfo.EndCursor
			if backward {
				more, next = p.PageInfo.HasPreviousPage, p.PageInfo.StartCursor
				got = append(ids, got...)
			} else {
				got = append(got, ids...)
			}
			if !more || next == nil {
				break
			}
			cursor = *next
		}
		if !slices.Equal(got, want) {
			how := "forward (first/after)"
			if backward {
				how = "backward (last/before)"
			}
			t.Fatalf("%s ordered by %s %s, walked %s in pages of %d:\n got %v\nwant %v", c.name, field, dir, how, n, got, want)
		}
	})
}
