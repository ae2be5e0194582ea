package export_test

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics/export"
	"github.com/meridian-graphql/meridian/analytics/export/exporttest"
)

// FuzzExportParams checks the export's query-parameter decoder: a refusal
// names its parameter; an accepted request has a known format, an ordered
// UTC range, non-empty trimmed types, a positive user id when one was
// given, an upper-case country — and re-encoding what it read gives the
// same reading.
func FuzzExportParams(f *testing.F) {
	for _, q := range exporttest.Queries {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw) // what the handler gets, errors and all
		rg, flt, format, err := export.Params(q)
		if err != nil {
			msg := err.Error()
			if !slices.ContainsFunc([]string{"from: ", "to: ", "type: ", "user: ", "country: ", "format: ", "parameter "}, func(p string) bool { return strings.HasPrefix(msg, p) }) {
				t.Fatalf("ExportParams(%q) refused without naming the parameter: %q", raw, msg)
			}
			return
		}
		if format != "ndjson" && format != "csv" {
			t.Fatalf("ExportParams(%q) format %q", raw, format)
		}
		for _, tm := range []time.Time{rg.From, rg.To} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Fatalf("ExportParams(%q): %v not in UTC", raw, tm)
			}
		}
		if !rg.From.IsZero() && !rg.To.IsZero() && !rg.From.Before(rg.To) {
			t.Fatalf("ExportParams(%q): empty range %v – %v", raw, rg.From, rg.To)
		}
		for _, typ := range flt.Types {
			if typ == "" || typ != strings.TrimSpace(typ) {
				t.Fatalf("ExportParams(%q): type %q", raw, typ)
			}
		}
		if len(flt.Types) > len(q["type"]) {
			t.Fatalf("ExportParams(%q): %d types from %d parameters", raw, len(flt.Types), len(q["type"]))
		}
		if u := strings.TrimSpace(fuzzFirst(q["user"])); u != "" && flt.UserID <= 0 || u == "" && flt.UserID != 0 {
			t.Fatalf("ExportParams(%q): user %d", raw, flt.UserID)
		}
		if flt.Country != strings.ToUpper(strings.TrimSpace(fuzzFirst(q["country"]))) {
			t.Fatalf("ExportParams(%q): country %q", raw, flt.Country)
		}
		// Re-encode what was read and read it again.
		v := url.Values{"format": {format}}
		if !rg.From.IsZero() {
			v.Set("from", rg.From.Format(time.RFC3339Nano))
		}
		if !rg.To.IsZero() {
			v.Set("to", rg.To.Format(time.RFC3339Nano))
		}
		v["type"] = flt.Types
		if flt.UserID != 0 {
			v.Set("user", strconv.Itoa(flt.UserID))
		}
		if flt.Country != "" {
			v.Set("country", flt.Country)
		}
		rg2, flt2, format2, err := export.Params(v)
		if err != nil {
			t.Fatalf("ExportParams(%q) read %+v %+v %s, which re-encoded as %q is refused: %v", raw, rg, flt, format, v.Encode(), err)
		}
		if !rg2.From.Equal(rg.From) || !rg2.To.Equal(rg.To) || format2 != format || flt2.UserID != flt.UserID ||
			!slices.Equal(flt2.Types, flt.Types) || flt2.Country != strings.ToUpper(strings.TrimSpace(flt.Country)) {
			t.Fatalf("ExportParams round trip of %q: %+v %+v %s → %q → %+v %+v %s", raw, rg, flt, format, v.Encode(), rg2, flt2, format2)
		}
	})
}

func fuzzFirst(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
