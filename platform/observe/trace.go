package observe

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracerName identifies the spans this package starts.
const tracerName = "github.com/meridian-graphql/meridian/platform/observe"

// TraceOptions tune NewTracing.
type TraceOptions struct {
	// Fields adds a span per resolver field (fields with IsResolver set:
	// the ones with code behind them, not struct fields read in place).
	// Off by default: a list query can resolve thousands of fields.
	// gqlgen resolves a field's children after its resolver returned, so
	// every field span is a child of the operation span, not of its parent
	// field's span; graphql.field.path tells where it sits.
	Fields bool
}

// Tracing holds the HTTP middleware and gqlgen extension that produce
// spans. Build it with NewTracing.
type Tracing struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	fields bool
}

// NewTracing returns tracing over tp (from SetupTracing, or a test
// provider). Context crosses process boundaries in W3C traceparent /
// tracestate and baggage headers.
func NewTracing(tp trace.TracerProvider, o TraceOptions) *Tracing {
	return &Tracing{
		tracer: tp.Tracer(tracerName),
		prop:   propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		fields: o.Fields,
	}
}

// Propagator is the propagator the middleware extracts with, for callers
// that inject trace context into outgoing requests or bus messages.
func (t *Tracing) Propagator() propagation.TextMapPropagator { return t.prop }

// Middleware starts the server span of each request, as a child of the
// trace the caller sent in traceparent, if any. The span is named after
// the ServeMux pattern that served the request when the mux runs inside it
// (directly or through middleware that does not replace the request).
func (t *Tracing) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, methodLabel(r.Method), trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		if !span.IsRecording() {
			// Unsampled, or the no-op provider: the context (an incoming
			// trace id, for the logs) goes on, but nothing is measured.
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		span.SetAttributes(
			attribute.String("http.request.method", r.Method),
			attribute.String("url.path", r.URL.Path),
			attribute.String("url.scheme", scheme(r)),
			attribute.String("network.protocol.version", protocolVersion(r)),
		)
		if ua := r.UserAgent(); ua != "" {
			span.SetAttributes(attribute.String("user_agent.original", ua))
		}
		if id := RequestIDFrom(ctx); id != "" {
			// Joins the trace to the request's log lines and to the
			// X-Request-ID the client saw.
			span.SetAttributes(attribute.String("meridian.request_id", id))
		}

		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(ctx)
		next.ServeHTTP(sw, r)

		code := sw.status()
		span.SetAttributes(attribute.Int("http.response.status_code", code))
		if code >= 500 {
			span.SetStatus(codes.Error, http.StatusText(code))
		}
		if route := routeOf(r.Pattern); route != "" {
			span.SetName(methodLabel(r.Method) + " " + route)
			span.SetAttributes(attribute.String("http.route", route))
		}
	})
}

// routeOf is the path part of a ServeMux pattern ("GET /export/events" →
// "/export/events"): low-cardinality, unlike the request's path.
func routeOf(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = strings.TrimLeft(pattern[i:], " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // drop a host
	}
	return pattern
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func protocolVersion(r *http.Request) string {
	switch {
	case r.ProtoMajor == 2:
		return "2"
	case r.ProtoMajor == 3:
		return "3"
	case r.ProtoMinor == 0:
		return "1.0"
	}
	return "1.1"
}
