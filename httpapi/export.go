package httpapi

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// exportEvents streams events as NDJSON or CSV:
//
//	GET /export/events?from=RFC3339&to=RFC3339&type=purchase&type=click&user=ID&country=UA&format=ndjson|csv
//
// Rows go out as the store reads them, page by page, flushed every few
// thousand rows: memory stays flat whatever the size of the export. A
// client that stops reading is cut after idle (its writes stall; a slow
// client that keeps reading keeps the export going).
func exportEvents(store analytics.Store, idle time.Duration) http.HandlerFunc {
	if idle <= 0 {
		idle = 30 * time.Second
	}
	return func(w http.ResponseWriter, r *http.Request) {
		rg, f, format, err := ParseExportQuery(r.URL.RawQuery)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error(), "code": "BAD_USER_INPUT"})
			return
		}
		if format == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/x-ndjson")
		}
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="events.%s"`, format))
		// A failure after the first row can only be told in a trailer.
		w.Header().Set("Trailer", "X-Export-Error")
		rc := http.NewResponseController(w)
		// The write deadline moves on as rows go out, at most once a
		// second: only a write that stalls for idle ends the export.
		var extended time.Time
		extend := func() {
			if now := time.Now(); now.Sub(extended) >= time.Second {
				extended = now
				_ = rc.SetWriteDeadline(now.Add(idle))
			}
		}
		extend()
		n := 0
		_, err = WriteExport(r.Context(), store, rg, f, format, w, func() {
			extend()
			if n++; n%5000 == 0 {
				_ = rc.Flush()
			}
		})
		if err != nil {
			w.Header().Set("X-Export-Error", err.Error())
		}
	}
}

// analystOnly lets callers with the ANALYST role (or more) through, as the
// event store's GraphQL fields do, and refuses the others.
func analystOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.From(r.Context())
		if !p.Role.Allows(auth.Analyst) {
			status, code := http.StatusForbidden, apperr.Forbidden
			if p.Role == "" {
				status, code = http.StatusUnauthorized, apperr.Unauthenticated
			}
			writeJSON(w, status, map[string]any{"error": fmt.Sprintf("the export needs the %s role; you have %q", auth.Analyst, p.Role), "code": code})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// WriteExport writes the matching events to w as NDJSON or CSV, calling tick
// after each row, and returns how many it wrote.
func WriteExport(ctx context.Context, store analytics.Store, rg analytics.Range, f analytics.Filter, format string, w io.Writer, tick func()) (int, error) {
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

// ParseExportQuery reads a raw query string of the export. A query string
// that does not parse whole (a bad escape, a semicolon, more parameters
// than Go parses) is refused rather than read in part.
func ParseExportQuery(raw string) (analytics.Range, analytics.Filter, string, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return analytics.Range{}, analytics.Filter{}, "", fmt.Errorf("parameter: the query string does not parse: %w", err)
	}
	return ExportParams(q)
}

// exportParamNames are the parameters ExportParams reads.
var exportParamNames = []string{"from", "to", "type", "user", "country", "format"}

// ExportParams reads the export's query parameters (from, to, type…, user,
// country, format); any other name is refused.
func ExportParams(q map[string][]string) (analytics.Range, analytics.Filter, string, error) {
	var r analytics.Range
	var f analytics.Filter
	for k := range q {
		if !slices.Contains(exportParamNames, k) {
			return r, f, "", fmt.Errorf("parameter %q: unknown; the export takes %s", k, strings.Join(exportParamNames, ", "))
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
