package observe

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// LogHandler wraps inner so that every record logged with a context
// (log.InfoContext(ctx, …)) carries the context's request_id, and its
// trace_id and span_id when a span is active: log lines then join up with
// each other, with the X-Request-ID the client saw, and with traces.
//
// The attributes are added to the record, so they land inside any group
// opened with WithGroup, like the record's other attributes.
func LogHandler(inner slog.Handler) slog.Handler {
	if h, ok := inner.(*logHandler); ok {
		return h // already wrapped: the attributes would appear twice
	}
	return &logHandler{inner: inner}
}

type logHandler struct{ inner slog.Handler }

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		// r is this call's copy, and the logger does not use it after
		// Handle returns, so adding to it is safe.
		if id := RequestIDFrom(ctx); id != "" {
			r.AddAttrs(slog.String("request_id", id))
		}
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
		}
	}
	return h.inner.Handle(ctx, r)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &logHandler{inner: h.inner.WithAttrs(as)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{inner: h.inner.WithGroup(name)}
}

// addsRequestID reports whether records of l already get request_id from
// LogHandler, so a caller does not add it a second time.
func addsRequestID(l *slog.Logger) bool {
	_, ok := l.Handler().(*logHandler)
	return ok
}
