package observe

import (
	"context"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
)

// maxLoggedQuery bounds the query text in a slow-query record: enough to
// recognise the query, not enough for one client to flood the log.
const maxLoggedQuery = 2048

// SlowQueries is a gqlgen extension logging, at warn level, every
// operation that took at least Threshold: srv.Use(observe.SlowQueries{…}).
// The record has the operation's name and type, its duration, SQL
// statements, error count, request id and query text (cut to 2 KB).
// Variables are never logged: they may hold personal data. Subscriptions
// are skipped, since their events' "duration" is the wait for the event.
type SlowQueries struct {
	// Threshold is the shortest duration logged; 0 logs every operation,
	// a negative one none.
	Threshold time.Duration
	// Log receives the records; slog.Default() when nil.
	Log *slog.Logger
	// StatementsOf, if set, returns the request's SQL statement count.
	StatementsOf func(ctx context.Context) int64
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = SlowQueries{}

func (SlowQueries) ExtensionName() string                   { return "ObserveSlowQueries" }
func (SlowQueries) Validate(graphql.ExecutableSchema) error { return nil }

func (s SlowQueries) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	if resp == nil || s.Threshold < 0 {
		return resp
	}
	op := operationOf(ctx)
	if op.subscription() {
		return resp
	}
	d := op.since(start)
	if d < s.Threshold {
		return resp
	}
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		// The raw name, not the metric label: this is one record, and the
		// name is what someone will search the code for. slog quotes it.
		slog.String("operation", op.name),
		slog.String("type", op.typ),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.Int("errors", len(resp.Errors)),
	)
	if s.StatementsOf != nil {
		attrs = append(attrs, slog.Int64("sql_statements", s.StatementsOf(ctx)))
	}
	if id := RequestIDFrom(ctx); id != "" && !addsRequestID(log) {
		attrs = append(attrs, slog.String("request_id", id))
	}
	if op.oc != nil {
		q, cut := truncate(op.oc.RawQuery, maxLoggedQuery)
		attrs = append(attrs, slog.String("query", q))
		if cut {
			attrs = append(attrs, slog.Int("query_bytes", len(op.oc.RawQuery)))
		}
	}
	log.LogAttrs(ctx, slog.LevelWarn, "slow graphql operation", attrs...)
	return resp
}

// truncate cuts s to at most n bytes without splitting a UTF-8 character,
// and reports whether it cut.
func truncate(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}
