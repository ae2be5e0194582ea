package sqlstore

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// marshalMeta is json.Marshal of event metadata, byte for byte, with a
// fast path for the common flat object of plain strings and numbers: the
// encoder's reflection was a tenth of the CPU of a bulk load. Anything else
// — nested values, strings that need escaping, numbers json writes in
// exponent form — goes to json.Marshal.
func marshalMeta(m map[string]any) ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	if b, ok := appendFlatMeta(make([]byte, 0, 16*len(m)+2), m); ok {
		return b, nil
	}
	return json.Marshal(m)
}

func appendFlatMeta(b []byte, m map[string]any) ([]byte, bool) {
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendPlainString(b, k); !ok {
			return nil, false
		}
		b = append(b, ':')
		switch v := m[k].(type) {
		case string:
			if b, ok = appendPlainString(b, v); !ok {
				return nil, false
			}
		case float64:
			// json uses exponents outside [1e-6, 1e21) and fails on NaN
			// and infinities.
			if a := math.Abs(v); math.IsNaN(v) || (a != 0 && (a < 1e-6 || a >= 1e21)) {
				return nil, false
			}
			b = strconv.AppendFloat(b, v, 'f', -1, 64)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case bool:
			b = strconv.AppendBool(b, v)
		default:
			return nil, false
		}
	}
	return append(b, '}'), true
}

// appendPlainString quotes s when json would write it unescaped: printable
// ASCII other than the quote, the backslash and the HTML characters json
// escapes (<, >, &).
func appendPlainString(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return nil, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}
