package resolvers_test

import (
	"bytes"
	"reflect"
	"strconv"
	"testing"
	"time"

	"meridian/ent"
)

// FuzzEntCursor decodes the Cursor scalar (entgql: base64 of a msgpack
// {id, value}), the `after`/`before` argument of every connection field.
// A cursor that decodes re-encodes to one that decodes to the same cursor
// — the cursors the server hands out must mean what they meant: a value
// lost on the way turns the keyset predicate into an id-only one (see
// testdata/fuzz/FuzzEntCursor/bug-zero-value-dropped-on-encode and httpapi's
// FuzzPagination).
// Its value can be anything msgpack holds (a map, a list): the paginator
// binds it next to the order field as it is, and the database refusing it
// must be answered BAD_USER_INPUT — httpapi's FuzzQueryEndpoint checks that
// end to end (testdata/fuzz/FuzzQueryEndpoint/bug-cursor-with-*).
func FuzzEntCursor(f *testing.F) {
	enc := func(c ent.Cursor) string {
		var b bytes.Buffer
		c.MarshalGQL(&b)
		s, _ := strconv.Unquote(b.String())
		return s
	}
	for _, v := range []any{nil, "Country 0", 42, -1, 3.5, true, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), []byte{0, 1}} {
		f.Add(enc(ent.Cursor{ID: 1, Value: v}))
	}
	for _, s := range []string{"", "gaFpAQ", "gqFp0wAAAAAAAAAB", "bm90LWEtY3Vyc29y", "garbage", "====", "gaFp", "3", "kA", "gqFpAaF2", "x\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c ent.Cursor
		if err := c.UnmarshalGQL(s); err != nil {
			return
		}
		again := enc(c)
		var c2 ent.Cursor
		if err := c2.UnmarshalGQL(again); err != nil {
			t.Fatalf("cursor %q → %+v → %q does not decode: %v", s, c, again, err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("cursor round trip: %q → %#v → %q → %#v", s, c, again, c2)
		}
	})
}
