package database_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/platform/observe"
)

// BenchmarkStatementTracing: one ent lookup on SQLite, with the driver
// as the app opens it with tracing off (not wrapped), wrapped on the
// no-op provider (what installing it regardless would cost), wrapped with
// the app's ChildSpansOnly SDK provider but no parent span (a background
// loop's statement), and recording under a parent span.
func BenchmarkStatementTracing(b *testing.B) {
	sdk := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(tracetest.NewNoopExporter())))
	b.Cleanup(func() { _ = sdk.Shutdown(context.Background()) })
	for _, c := range []struct {
		name   string
		tp     trace.TracerProvider
		parent bool
	}{
		{"off", nil, false},
		{"noop-wrapped", noop.NewTracerProvider(), false},
		{"sdk-no-parent", observe.ChildSpansOnly(sdk), false},
		{"sdk-recording", observe.ChildSpansOnly(sdk), true},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			var opts []database.Option
			if c.tp != nil {
				opts = append(opts, database.WithTracerProvider(c.tp))
			}
			db, err := database.Open(ctx, "sqlite:"+b.TempDir()+"/bench.db", "", opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if _, err := db.Client.User.Create().SetUsername("bench_user").SetEmail("bench@example.com").Save(ctx); err != nil {
				b.Fatal(err)
			}
			if c.parent {
				var span trace.Span
				ctx, span = sdk.Tracer("bench").Start(ctx, "request")
				defer span.End()
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.Client.User.Query().Where(user.Username("bench_user")).Only(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
