package resolvers_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/ent"
)

// FuzzEntCursor decodes the Cursor scalar (entgql: base64 of a msgpack
// {i: id, v: value}), the `after`/`before` argument of every connection
// field, and checks what re-encoding it keeps: the cursors the server hands
// out must mean what they meant, since a value lost on the way turns the
// keyset predicate into an id-only one.
//
//   - The id always survives.
//   - A value survives exactly — except one that msgpack's omitempty drops
//     (entgql's tag on Value, which we cannot change): false, a zero number,
//     an empty string, list or map, the zero time. That comes back equal or
//     nil, and nil is what it comes back as today
//     (testdata/fuzz/FuzzEntCursor/bug-zero-value-dropped-on-encode). The
//     server makes up for it: httpapi's cursorValues gives a cursor without
//     a value its value back from the row it points at, and httpapi's
//     FuzzPagination checks end to end that walks over zero values neither
//     skip nor repeat rows.
//
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
	for _, v := range []any{nil, "Country 0", 42, -1, 3.5, true, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 0).UTC(), []byte{0, 1}} {
		f.Add(enc(ent.Cursor{ID: 1, Value: v}))
	}
	// Cursors {i: 1, v: x} with a zero x, which enc cannot make (it drops
	// x): 0, "", false, [], {}, 0.0, -0.0, the zero time.
	for _, x := range [][]byte{
		{0x00}, {0xa0}, {0xc2}, {0x90}, {0x80},
		{0xcb, 0, 0, 0, 0, 0, 0, 0, 0}, {0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0},
		{0xc7, 12, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xf1, 0x88, 0x6e, 0x09, 0x00},
	} {
		f.Add(base64.RawStdEncoding.EncodeToString(append([]byte{0x82, 0xa1, 'i', 0x01, 0xa1, 'v'}, x...)))
	}
	for _, s := range []string{"", "gaFpAQ", "gqFp0wAAAAAAAAAB", "bm90LWEtY3Vyc29y", "garbage", "====", "gaFp", "3", "kA", "gqFpAaF2", "x\x00"} {
		f.Add(s)
	}
	// decode turns a decoder panic into an error. msgpack panics on some
	// malformed inputs (testdata/…/bug-decoder-panics);
	// the server decodes every Cursor argument this way before executing
	// (httpapi's cursorCheck) and answers BAD_USER_INPUT, which
	// FuzzQueryEndpoint checks end to end. A cursor the server made must
	// never panic.
	decode := func(c *ent.Cursor, s string) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("decoder panic: %v", r)
			}
		}()
		return c.UnmarshalGQL(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c ent.Cursor
		if err := decode(&c, s); err != nil {
			return
		}
		again := enc(c)
		var c2 ent.Cursor
		if err := decode(&c2, again); err != nil {
			t.Fatalf("cursor %q → %+v → %q does not decode: %v", s, c, again, err)
		}
		if c2.ID != c.ID {
			t.Fatalf("cursor %q → %#v → %q lost its id: %#v", s, c, again, c2)
		}
		switch {
		case sameValue(c.Value, c2.Value):
		case c2.Value == nil && omitEmpty(c.Value):
			// Dropped by omitempty; cursorValues restores it.
		default:
			t.Fatalf("cursor %q → %#v → %q changed its value: %#v", s, c, again, c2)
		}
	})
}

// omitEmpty reports whether msgpack's omitempty drops v (see
// msgpack/v5's isEmptyValue): nil, the zero value of an IsZero method,
// false, a zero number (-0 too), an empty string, list or map.
func omitEmpty(v any) bool {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return true
	}
	if z, ok := v.(interface{ IsZero() bool }); ok {
		return z.IsZero()
	}
	switch rv.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return rv.Len() == 0
	case reflect.Float32, reflect.Float64:
		return rv.Float() == 0
	case reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	return rv.IsZero()
}

// sameValue is reflect.DeepEqual, except that NaN equals NaN: a NaN that
// survives the round trip is the same value.
func sameValue(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if !va.IsValid() || !vb.IsValid() || va.Type() != vb.Type() {
		return false
	}
	switch va.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.IsNaN(va.Float()) && math.IsNaN(vb.Float())
	case reflect.Slice, reflect.Array:
		if va.Len() != vb.Len() {
			return false
		}
		for i := range va.Len() {
			if !sameValue(va.Index(i).Interface(), vb.Index(i).Interface()) {
				return false
			}
		}
		return true
	case reflect.Map:
		if va.Len() != vb.Len() {
			return false
		}
		for _, k := range va.MapKeys() {
			w := vb.MapIndex(k)
			if !w.IsValid() || !sameValue(va.MapIndex(k).Interface(), w.Interface()) {
				return false
			}
		}
		return true
	}
	return false
}
