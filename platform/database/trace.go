package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"

	"github.com/XSAM/otelsql"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// WithTracerProvider traces every statement on tp (XSAM/otelsql around the
// database/sql driver, pgx and SQLite alike): a CLIENT span per statement,
// per BEGIN, COMMIT and ROLLBACK and per new connection ("connect"), named
// by its operation ("SELECT", "INSERT", …), with the statement's text in db.query.text once its
// literals are replaced by "?" (ent and the raw statements pass values as
// parameters, which are never recorded). Rows, prepares and session
// resets get no span of their own. Without it (tracing off) the driver is
// not wrapped at all, so tracing costs nothing then.
func WithTracerProvider(tp trace.TracerProvider) Option { return func(d *DB) { d.tp = tp } }

// sqlOpen opens driverName's dsn, wrapped for tracing when tp is set.
func sqlOpen(driverName, dsn, system string, tp trace.TracerProvider) (*sql.DB, error) {
	if tp == nil {
		return sql.Open(driverName, dsn)
	}
	return otelsql.Open(driverName, dsn,
		otelsql.WithTracerProvider(tp),
		// Its latency histogram is not wanted: the statements' metrics
		// are Meridian's own. A no-op meter keeps it off the global one.
		otelsql.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelsql.WithAttributes(attribute.String("db.system.name", system)),
		otelsql.WithSpanNameFormatter(func(_ context.Context, m otelsql.Method, query string) string { return Operation(m, query) }),
		otelsql.WithAttributesGetter(func(_ context.Context, m otelsql.Method, query string, _ []driver.NamedValue) []attribute.KeyValue {
			attrs := []attribute.KeyValue{attribute.String("db.operation.name", Operation(m, query))}
			if query != "" {
				attrs = append(attrs, attribute.String("db.query.text", SanitizeSQL(query)))
			}
			return attrs
		}),
		otelsql.WithSpanOptions(otelsql.SpanOptions{
			DisableQuery:         true, // recorded sanitized, above
			DisableErrSkip:       true,
			OmitConnResetSession: true,
			OmitConnPrepare:      true,
			OmitRows:             true,
		}),
	)
}

// Operation names the span of a statement: the SQL command that starts
// query, upper-cased ("SELECT", "INSERT", "WITH", …), or the transaction
// step of method. It is one of a fixed set of strings, so span names stay
// few, and it allocates nothing.
func Operation(method otelsql.Method, query string) string {
	switch method {
	case otelsql.MethodConnBeginTx:
		return "BEGIN"
	case otelsql.MethodTxCommit:
		return "COMMIT"
	case otelsql.MethodTxRollback:
		return "ROLLBACK"
	case otelsql.MethodConnectorConnect:
		return "connect"
	case otelsql.MethodConnPing:
		return "ping"
	}
	q := strings.TrimLeft(query, " \t\r\n(")
	end := 0
	for end < len(q) && (q[end] >= 'a' && q[end] <= 'z' || q[end] >= 'A' && q[end] <= 'Z') {
		end++
	}
	word := q[:end]
	// The commands a span can be named after.
	for _, op := range [...]string{
		"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK",
		"SAVEPOINT", "RELEASE", "CREATE", "ALTER", "DROP", "TRUNCATE", "SET", "LOCK",
		"ANALYZE", "VACUUM", "COPY", "PRAGMA", "EXPLAIN", "SHOW",
	} {
		if strings.EqualFold(word, op) {
			return op
		}
	}
	return "SQL"
}

// maxQueryText bounds db.query.text.
const maxQueryText = 4096

// SanitizeSQL returns query with its literals — quoted strings and numbers
// outside identifiers — replaced by "?", so that a span never records a
// value even where a statement was built with one inline. Quoted
// identifiers, parameters ($1, ?) and keywords stay. It is cut at
// maxQueryText bytes.
func SanitizeSQL(query string) string {
	var b strings.Builder
	b.Grow(min(len(query), maxQueryText))
	for i := 0; i < len(query) && b.Len() < maxQueryText; {
		c := query[i]
		switch {
		case c == '\'':
			// A string literal; '' is an escaped quote inside it.
			j := i + 1
			for j < len(query) {
				if query[j] == '\'' {
					if j+1 < len(query) && query[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			b.WriteByte('?')
			i = j + 1
		case c == '"':
			// A quoted identifier, kept.
			end := len(query)
			if j := strings.IndexByte(query[i+1:], '"'); j >= 0 {
				end = i + 1 + j + 1
			}
			b.WriteString(query[i:end])
			i = end
		case isDigit(c) && (i == 0 || !isWordByte(query[i-1])):
			j := i
			for j < len(query) && (isDigit(query[j]) || query[j] == '.' || query[j] == 'e' || query[j] == 'E') {
				j++
			}
			b.WriteByte('?')
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	s := b.String()
	if len(s) > maxQueryText {
		s = s[:maxQueryText]
	}
	return s
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isWordByte: a digit after one of these belongs to a name or a
// parameter (t1, $2), not a literal.
func isWordByte(c byte) bool {
	return c == '_' || c == '$' || isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
