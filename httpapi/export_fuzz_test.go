package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/export"
	"github.com/meridian-graphql/meridian/analytics/export/exporttest"
)

// FuzzExportEndpoint sends GET /export/events with any query string to the
// real handler over the fixture's events. A refusal is a 400 JSON body with
// a code; an accepted export is 200, in the format asked for, with no
// X-Export-Error trailer, every row a fixture event that matches the
// filters (type, user, country, from ≤ t < to), and no matching fixture
// event left out.
func FuzzExportEndpoint(f *testing.F) {
	api := newFuzzAPI(f)
	for _, q := range exporttest.Queries {
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
