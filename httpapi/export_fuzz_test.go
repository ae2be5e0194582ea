package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/export"
)

// fuzzExportQueries seed the export targets.
var fuzzExportQueries = []string{
	``,
	`format=csv`,
	`format=ndjson&type=purchase&type=click`,
	`from=2026-01-05T00:00:00Z&to=2026-01-12T00:00:00Z`,
	`from=2026-01-06T10:00:00%2B02:00&to=2026-01-07T00:00:00.5Z&format=csv`,
	`user=1&country=aa`,
	`user=0`, `user=-1`, `user=9223372036854775808`, `user=1e3`, `user=%201%20`,
	`from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
	`from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
	`from=yesterday`, `to=2026-13-01T00:00:00Z`, `from=0000-01-01T00:00:00Z&to=9999-12-31T23:59:59Z`,
	`from=2026-01-05T00:00:00%2B23:59`,
	`format=xml`, `format=CSV`, `format=%20csv%20`,
	`type=&type=%20&type=purchase`,
	`country=%00`, `country=%FF%FE`, `country=ab%25`, `type=%27%20OR%201%3D1--`,
	`from=2026-01-05T00:00:00Z&from=2026-01-06T00:00:00Z`,
	`%ZZ=1&format=csv`, `;`, `&&&=&=`,
}

// FuzzExportParams checks the export's query-parameter decoder: a refusal
// names its parameter; an accepted request has a known format, an ordered
// UTC range, non-empty trimmed types, a positive user id when one was
// given, an upper-case country — and re-encoding what it read gives the
// same reading.
func FuzzExportParams(f *testing.F) {
	for _, q := range fuzzExportQueries {
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

// FuzzExportEndpoint sends GET /export/events with any query string to the
// real handler over the fixture's events. A refusal is a 400 JSON body with
// a code; an accepted export is 200, in the format asked for, with no
// X-Export-Error trailer, every row a fixture event that matches the
// filters (type, user, country, from ≤ t < to), and no matching fixture
// event left out.
func FuzzExportEndpoint(f *testing.F) {
	api := newFuzzAPI(f)
	for _, q := range fuzzExportQueries {
		f.Add(q)
	}
	f.Add("user=" + strconv.Itoa(api.userIDs[0]) + "&type=purchase&format=csv")
	f.Add("country=ab&from=2026-01-06T00:00:00Z&to=2026-01-09T00:00:00Z")
	byID := map[string]analytics.Event{}
	for _, e := range api.eventsStored {
		byID[e.ID] = e
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest(http.MethodGet, "/export/events", nil)
		r.URL.RawQuery = raw
		rec := httptest.NewRecorder()
		api.h.ServeHTTP(rec, r)
		res := rec.Result()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 500 {
			t.Fatalf("GET /export/events?%s: status %d %s", raw, res.StatusCode, body)
		}
		rg, flt, format, perr := export.ParseQuery(raw)
		if res.StatusCode != http.StatusOK {
			var e struct{ Error, Code string }
			if res.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Code == "" || e.Error == "" {
				t.Fatalf("GET /export/events?%s: status %d %q", raw, res.StatusCode, body)
			}
			if perr == nil {
				t.Fatalf("GET /export/events?%s refused (%s) but ExportParams accepts it", raw, body)
			}
			return
		}
		if perr != nil {
			t.Fatalf("GET /export/events?%s exported though ExportParams refuses it: %v", raw, perr)
		}
		if e := rec.Result().Trailer.Get("X-Export-Error"); e != "" || rec.Header().Get("X-Export-Error") != "" {
			t.Fatalf("GET /export/events?%s: export error %q", raw, e)
		}
		var ids []string
		switch format {
		case "csv":
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
				t.Fatalf("csv export with Content-Type %q", ct)
			}
			rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
			if err != nil || len(rows) == 0 || !slices.Equal(rows[0], export.CSVHeader()) {
				t.Fatalf("GET /export/events?%s: bad CSV (%v): %q", raw, err, body)
			}
			for _, row := range rows[1:] {
				ids = append(ids, row[0])
			}
		default:
			if ct := res.Header.Get("Content-Type"); ct != "application/x-ndjson" {
				t.Fatalf("ndjson export with Content-Type %q", ct)
			}
			sc := bufio.NewScanner(bytes.NewReader(body))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var e analytics.Event
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					t.Fatalf("GET /export/events?%s: bad NDJSON line %q: %v", raw, sc.Text(), err)
				}
				ids = append(ids, e.ID)
			}
		}
		match := func(e analytics.Event) bool {
			return rg.Contains(e.Timestamp) &&
				(len(flt.Types) == 0 || slices.Contains(flt.Types, e.Type)) &&
				(flt.UserID == 0 || flt.UserID == e.UserID) &&
				(flt.Country == "" || e.Geo != nil && e.Geo.Country == flt.Country)
		}
		seen := map[string]bool{}
		for _, id := range ids {
			e, ok := byID[id]
			if !ok {
				continue // tracked by another input of this worker (trackEvent mutations)
			}
			if seen[id] {
				t.Fatalf("GET /export/events?%s: event %s exported twice", raw, id)
			}
			seen[id] = true
			if !match(e) {
				t.Fatalf("GET /export/events?%s: event %+v does not match %+v %+v", raw, e, rg, flt)
			}
		}
		for id, e := range byID {
			if match(e) && !seen[id] {
				t.Fatalf("GET /export/events?%s: event %s (%v %s user %d %+v) left out of %+v %+v", raw, id, e.Timestamp, e.Type, e.UserID, e.Geo, rg, flt)
			}
		}
	})
}
