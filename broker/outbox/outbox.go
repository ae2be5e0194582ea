// Package outbox owns the transactional outbox: mutations write the events
// they cause into the outbox table in their own transaction (so an event
// exists exactly when its change committed), and the Relay publishes pending
// rows to the bus with confirms and marks them sent. The relay holds no
// transaction while it talks to the broker: it leases a batch of rows in a
// short transaction, publishes under a deadline, then marks the rows sent
// (or hands them back) in another. Delivery is at-least-once end to end: a
// crash between publish and mark, or a lease that runs out, re-publishes the
// same message id, which consumers dedupe.
package outbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/bustrace"
	"github.com/meridian-graphql/meridian/platform/database"
)

// SchemaVersion of the payloads written today.
const SchemaVersion = 1

// schema creates the table; times are Unix milliseconds so that both
// dialects store and compare them the same way. claimed_until is the
// relay's lease; tables made before the relay leased rows got it from the
// baseline migration's catch-up (see database.Migrate).
func schema(d string) []string {
	text := "TEXT"
	return []string{
		`CREATE TABLE IF NOT EXISTS outbox (
			id ` + text + ` PRIMARY KEY,
			exchange ` + text + ` NOT NULL,
			type ` + text + ` NOT NULL,
			body ` + text + ` NOT NULL,
			occurred_at BIGINT NOT NULL,
			correlation_id ` + text + ` NOT NULL DEFAULT '',
			schema_version INTEGER NOT NULL DEFAULT 1,
			sent_at BIGINT,
			claimed_until BIGINT,
			headers ` + text + ` NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (occurred_at, id) WHERE sent_at IS NULL`,
		`CREATE INDEX IF NOT EXISTS outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL`,
	}
}

// Tables declares the outbox table for the versioned migrations
// (internal/dbschema lists it; see database.Tables).
func Tables() database.Tables { return database.Tables{Owner: "outbox", DDL: schema} }

// Migrate makes sure db has the outbox table: it applies db's pending
// migrations (database.DB.Migrate), whose files create it. database.Open
// has done so already, unless it was told not to migrate.
func Migrate(ctx context.Context, db *database.DB) error {
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("outbox schema: %w", err)
	}
	return nil
}

// Execer is a transaction (ent's *Tx) or a connection.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Writer adds events to the outbox inside the caller's transaction.
type Writer struct {
	db *database.DB
}

// NewWriter returns a writer for db's dialect.
func NewWriter(db *database.DB) *Writer { return &Writer{db: db} }

// Add writes one event of type typ with body (JSON) for exchange, in tx.
// The event id is a new ULID; correlation ids travel in ctx (WithCorrelation).
// The trace context of ctx is stored with the row (its W3C traceparent,
// tracestate and baggage, as JSON in the headers column), so that the
// relay publishes the event, later and from its own loop, as part of the
// trace of the operation that wrote it.
func (w *Writer) Add(ctx context.Context, tx Execer, exchange, typ string, body []byte) error {
	id := ulid.MustNew(ulid.Now(), rand.Reader).String()
	headers, err := encodeHeaders(bustrace.Inject(ctx))
	if err != nil {
		return fmt.Errorf("outbox: add %s: %w", typ, err)
	}
	q := w.db.Rebind(`INSERT INTO outbox (id, exchange, type, body, occurred_at, correlation_id, schema_version, headers) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if _, err := tx.ExecContext(ctx, q, id, exchange, typ, string(body), time.Now().UnixMilli(), correlationFrom(ctx), SchemaVersion, headers); err != nil {
		return fmt.Errorf("outbox: add %s: %w", typ, err)
	}
	return nil
}

// encodeHeaders is the headers column's text: "" for none, else a JSON
// object of strings.
func encodeHeaders(h broker.Headers) (string, error) {
	if len(h) == 0 {
		return "", nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("encode headers: %w", err)
	}
	return string(b), nil
}

// decodeHeaders reads the headers column. Trace context is worth no
// failed publish: a value that does not parse is dropped.
func decodeHeaders(s string) broker.Headers {
	if s == "" {
		return nil
	}
	var h broker.Headers
	if err := json.Unmarshal([]byte(s), &h); err != nil || len(h) == 0 {
		return nil
	}
	return h
}

type correlationKey struct{}

// WithCorrelation carries a correlation id (the request id) to the events a
// request causes.
func WithCorrelation(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

func correlationFrom(ctx context.Context) string {
	s, _ := ctx.Value(correlationKey{}).(string)
	return s
}

// row is one pending event.
type row struct {
	exchange string
	occurred int64 // Unix ms, the relay's sort key with the id
	msg      broker.Message
}
