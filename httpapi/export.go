package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/export"
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
		rg, f, format, err := export.ParseQuery(r.URL.RawQuery)
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
		_, err = export.Write(r.Context(), store, rg, f, format, w, func() {
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
