// Package observe is meridian's observability kit: Prometheus metrics,
// OpenTelemetry tracing, request ids carried into structured logs, and a
// slow-query log.
//
// Every piece is an ordinary value the caller builds and wires in: an
// http.Handler middleware, a gqlgen handler extension, an slog.Handler
// wrapper. Nothing registers itself anywhere global — the metrics live in a
// caller-supplied prometheus.Registry and the tracer provider is passed in —
// so tests can build as many independent instances as they like.
//
// The package imports no meridian package. Application statistics (cache,
// live subscriptions, bus queues, SQL statement counts) come in through
// functions and plain structs the caller fills from its own types, which
// keeps the dependency pointing from the application to observe and never
// back.
package observe
