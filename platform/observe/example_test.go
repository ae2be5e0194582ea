package observe_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"

	"github.com/meridian-graphql/meridian/platform/observe"
)

// Example shows the wiring: one Metrics and one Tracing per process, the
// gqlgen extensions on the server, and the HTTP middlewares around the
// whole mux with RequestID outermost.
func Example() {
	ctx := context.Background()
	log := slog.New(observe.LogHandler(slog.NewJSONHandler(os.Stderr, nil)))

	shutdown, tp, err := observe.SetupTracing(ctx, observe.TracingConfig{
		Endpoint:    os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
		ServiceName: "meridian",
	})
	if err != nil {
		log.Error("tracing", "err", err)
		return
	}
	defer shutdown(context.Background())
	tracing := observe.NewTracing(tp, observe.TraceOptions{})

	statements := func(ctx context.Context) int64 { return 0 } // database.CounterFrom(ctx).N()
	metrics, err := observe.NewMetrics(nil, observe.MetricsOptions{StatementsOf: statements})
	if err != nil {
		log.Error("metrics", "err", err)
		return
	}

	var gql *handler.Server // httpapi.NewGraphQL(…)
	if gql != nil {
		gql.Use(metrics.GraphQL())
		gql.Use(tracing.GraphQL())
		gql.Use(observe.SlowQueries{Threshold: 500 * time.Millisecond, Log: log, StatementsOf: statements})
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	srv := &http.Server{
		Addr:    ":8080",
		Handler: observe.RequestID(tracing.Middleware(metrics.Middleware(mux))),
	}
	_ = srv
}
