package sqlstore

import (
	"encoding/json"
	"math"
	"testing"
)

// TestMarshalMetaIsJSONMarshal: the fast path writes what json.Marshal
// writes, and every value it does not take falls back to it.
func TestMarshalMetaIsJSONMarshal(t *testing.T) {
	cases := []map[string]any{
		nil,
		{},
		{"path": "/p/12"},
		{"price": 19.99, "quantity": 1.0, "category": "books", "product_id": 17, "order_id": int64(99)},
		{"z": 0.0, "a": -3.5, "m": 123456789012.25, "ok": true, "no": false},
		{"tiny": 1e-7, "huge": 1e21, "edge": 1e-6, "big": 9.99e20},
		{"html": "<b>&</b>", "quote": `say "hi"`, "back": `a\b`, "ctl": "a\nb", "utf8": "Zürich", "bad": "\xff"},
		{"k\"ey": 1.0},
		{"nested": map[string]any{"a": 1.0}, "list": []any{1.0, "x"}},
		{"null": nil},
		{"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": 5.0, "f": 6.0, "g": 7.0, "h": 8.0, "i": 9.0},
	}
	for _, m := range cases {
		got, err := marshalMeta(m)
		want, wantErr := json.Marshal(m)
		if string(got) != string(want) || (err == nil) != (wantErr == nil) {
			t.Errorf("marshalMeta(%v) = %s, %v; json.Marshal: %s, %v", m, got, err, want, wantErr)
		}
	}
	if _, err := marshalMeta(map[string]any{"nan": math.NaN()}); err == nil {
		t.Error("NaN marshalled; json.Marshal refuses it")
	}
}
