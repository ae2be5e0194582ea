// Package export owns the event export: the parameters that select events
// (the same for GET /export/events and the export command) and the NDJSON
// and CSV encodings they are streamed in. FuzzExportParams checks the
// parameters here; httpapi's FuzzExportEndpoint runs them, and the
// encodings, through the endpoint.
package export

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
)

// Write writes the matching events to w as NDJSON or CSV, calling tick
// after each row, and returns how many it wrote.
func Write(ctx context.Context, store analytics.Store, rg analytics.Range, f analytics.Filter, format string, w io.Writer, tick func()) (int, error) {
	n := 0
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(CSVHeader()); err != nil {
			return 0, err
		}
		err := store.Export(ctx, rg, f, func(e *analytics.Event) error {
			if err := cw.Write(CSVRow(e)); err != nil {
				return err
			}
			n++
			if n%1000 == 0 {
				// csv.Writer buffers; hand rows on so the caller can flush.
				cw.Flush()
			}
			tick()
			return cw.Error()
		})
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
		return n, err
	default:
		enc := json.NewEncoder(w)
		err := store.Export(ctx, rg, f, func(e *analytics.Event) error {
			if err := enc.Encode(e); err != nil {
				return err
			}
			n++
			tick()
			return nil
		})
		return n, err
	}
}

// ParseQuery reads a raw query string of the export. A query string
// that does not parse whole (a bad escape, a semicolon, more parameters
// than Go parses) is refused rather than read in part.
func ParseQuery(raw string) (analytics.Range, analytics.Filter, string, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return analytics.Range{}, analytics.Filter{}, "", fmt.Errorf("parameter: the query string does not parse: %w", err)
	}
	return Params(q)
}

// paramNames are the parameters Params reads.
var paramNames = []string{"from", "to", "type", "user", "country", "format"}

// Params reads the export's query parameters (from, to, type…, user,
// country, format); any other name is refused.
func Params(q map[string][]string) (analytics.Range, analytics.Filter, string, error) {
	var r analytics.Range
	var f analytics.Filter
	for k := range q {
		if !slices.Contains(paramNames, k) {
			return r, f, "", fmt.Errorf("parameter %q: unknown; the export takes %s", k, strings.Join(paramNames, ", "))
		}
	}
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	for _, b := range []struct {
		name string
		dst  *time.Time
	}{{"from", &r.From}, {"to", &r.To}} {
		if v := get(b.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return r, f, "", fmt.Errorf("%s: want an RFC 3339 time such as 2026-01-31T00:00:00Z", b.name)
			}
			*b.dst = t.UTC()
		}
	}
	if !r.From.IsZero() && !r.To.IsZero() && !r.From.Before(r.To) {
		return r, f, "", fmt.Errorf("to: must be after from")
	}
	for _, t := range q["type"] {
		if t = strings.TrimSpace(t); t != "" {
			if len(t) > 64 || strings.ContainsRune(t, 0) {
				return r, f, "", fmt.Errorf("type: %q is not an event type", t)
			}
			f.Types = append(f.Types, t)
		}
	}
	if v := get("user"); v != "" {
		id, err := strconv.Atoi(v)
		if err != nil || id <= 0 {
			return r, f, "", fmt.Errorf("user: want a user id")
		}
		f.UserID = id
	}
	f.Country = strings.ToUpper(get("country"))
	if c := f.Country; c != "" && (len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z') {
		return r, f, "", fmt.Errorf("country: want an ISO 3166 alpha-2 code such as UA")
	}
	format := get("format")
	if format == "" {
		format = "ndjson"
	}
	if format != "ndjson" && format != "csv" {
		return r, f, "", fmt.Errorf("format: want ndjson or csv")
	}
	return r, f, format, nil
}

// CSVHeader is the header row of a CSV export.
func CSVHeader() []string {
	return []string{"id", "user_id", "type", "timestamp", "country", "city", "lon", "lat", "metadata"}
}

// CSVRow is one event as a CSV row; metadata stays JSON. Cells of text a
// client chose (id, type, country, city, metadata) are neutralised against
// formula injection (see cell); the numbers the export formats itself
// (user id, lon, lat) and the timestamp are left as they are, a negative
// longitude included: a spreadsheet reads "-3.7" as a number, not a formula.
func CSVRow(e *analytics.Event) []string {
	row := []string{cell(e.ID), strconv.Itoa(e.UserID), cell(e.Type), e.Timestamp.UTC().Format(time.RFC3339Nano), "", "", "", "", ""}
	if g := e.Geo; g != nil {
		row[4], row[5] = cell(g.Country), cell(g.City)
		row[6], row[7] = strconv.FormatFloat(g.Lon, 'f', -1, 64), strconv.FormatFloat(g.Lat, 'f', -1, 64)
	}
	if len(e.Metadata) > 0 {
		if b, err := json.Marshal(e.Metadata); err == nil {
			row[8] = cell(string(b))
		}
	}
	return row
}

// cell neutralises CSV formula injection as OWASP's "CSV Injection"
// advises: text starting with =, +, -, @, a tab or a carriage return gets
// a leading single quote, so that a spreadsheet shows it instead of
// evaluating it.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
