package database_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/XSAM/otelsql"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

func TestSanitizeSQL(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT "users"."id" FROM "users" WHERE "users"."username" = $1 LIMIT 2`:  `SELECT "users"."id" FROM "users" WHERE "users"."username" = $1 LIMIT ?`,
		`INSERT INTO t (a, b) VALUES (?, ?)`:                                      `INSERT INTO t (a, b) VALUES (?, ?)`,
		`SET LOCAL maintenance_work_mem = '256MB'`:                                `SET LOCAL maintenance_work_mem = ?`,
		`SELECT * FROM t WHERE name = 'O''Brien' AND n > 3.5e2 AND t2.c1 = x_9`:   `SELECT * FROM t WHERE name = ? AND n > ? AND t2.c1 = x_9`,
		`SELECT "col 1" FROM "weird ""name""" WHERE v = -42`:                      `SELECT "col 1" FROM "weird ""name""" WHERE v = -?`,
		`SELECT 'unterminated`:                                                    `SELECT ?`,
		`SELECT COUNT(*) FROM pragma_table_info('outbox') WHERE name = 'headers'`: `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`,
	} {
		if got := database.SanitizeSQL(in); got != want {
			t.Errorf("SanitizeSQL(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}

func TestOperation(t *testing.T) {
	for _, c := range []struct {
		method otelsql.Method
		query  string
		want   string
	}{
		{otelsql.MethodConnQuery, `SELECT 1`, "SELECT"},
		{otelsql.MethodConnExec, "\n\t insert into outbox VALUES (1)", "INSERT"},
		{otelsql.MethodConnQuery, `(SELECT 1) UNION (SELECT 2)`, "SELECT"},
		{otelsql.MethodConnExec, `UPDATE outbox SET sent_at = 1`, "UPDATE"},
		{otelsql.MethodStmtQuery, `WITH x AS (SELECT 1) SELECT * FROM x`, "WITH"},
		{otelsql.MethodConnExec, `GRANT ALL ON t TO u`, "SQL"},
		{otelsql.MethodConnBeginTx, "", "BEGIN"},
		{otelsql.MethodTxCommit, "", "COMMIT"},
		{otelsql.MethodTxRollback, "", "ROLLBACK"},
	} {
		if got := database.Operation(c.method, c.query); got != c.want {
			t.Errorf("Operation(%s, %q) = %q, want %q", c.method, c.query, got, c.want)
		}
	}
}

// TestStatementSpans: on both backends, an ent query and a transaction
// run under a span leave CLIENT spans named by operation, children of
// that span, with the statement's text but no parameter value.
func TestStatementSpans(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			dsn := "sqlite:" + t.TempDir() + "/traced.db"
			if backend == "postgres" {
				dsn = testdb.NewPostgresDatabase(t)
			}
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			t.Cleanup(func() { _ = tp.Shutdown(ctx) })
			db, err := database.Open(ctx, dsn, "", database.WithTracerProvider(tp))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })

			pctx, parent := tp.Tracer("test").Start(ctx, "request")
			tx, err := db.Client.Tx(pctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.User.Create().SetUsername("secret-name").SetEmail("secret@example.com").Save(pctx); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Client.User.Query().Where(user.Username("secret-name")).Only(pctx); err != nil {
				t.Fatal(err)
			}
			parent.End()

			var got []string
			for _, s := range rec.Ended() {
				if s.Parent().SpanID() != parent.SpanContext().SpanID() {
					continue
				}
				got = append(got, s.Name())
				if s.SpanKind() != trace.SpanKindClient {
					t.Errorf("%s: kind %v, want client", s.Name(), s.SpanKind())
				}
				for _, kv := range s.Attributes() {
					if v := kv.Value.Emit(); kv.Key != "db.query.text" && kv.Key != "db.operation.name" && kv.Key != "db.system.name" {
						t.Errorf("%s: unexpected attribute %s=%s", s.Name(), kv.Key, v)
					} else if strings.Contains(v, "secret") {
						t.Errorf("%s: %s records a value: %s", s.Name(), kv.Key, v)
					}
				}
				if sys := attrOf(s.Attributes(), "db.system.name"); sys != map[string]string{"sqlite": "sqlite", "postgres": "postgresql"}[backend] {
					t.Errorf("%s: db.system.name %q", s.Name(), sys)
				}
			}
			for _, want := range []string{"BEGIN", "INSERT", "COMMIT", "SELECT"} {
				if !slices.Contains(got, want) {
					t.Errorf("spans under the request %v: no %s", got, want)
				}
			}
			// Outside any span (a background loop) nothing would be a
			// child; with the plain provider it is a root, which the app
			// avoids with observe.ChildSpansOnly (tested there).
		})
	}
}

func attrOf(attrs []attribute.KeyValue, key string) string {
	for _, kv := range attrs {
		if string(kv.Key) == key {
			return kv.Value.AsString()
		}
	}
	return ""
}
