package observe

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracingConfig says where spans go. The caller fills it from the standard
// OpenTelemetry environment variables; with no endpoint, tracing is off.
type TracingConfig struct {
	// Endpoint is OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL
	// ("http://otel-collector:4318"); spans are posted to its /v1/traces.
	Endpoint string
	// TracesEndpoint is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the full URL
	// spans are posted to, used as is. It wins over Endpoint.
	TracesEndpoint string
	// ServiceName is the service.name resource attribute (default
	// "meridian"); OTEL_SERVICE_NAME still overrides it, as the OTel spec
	// says it should.
	ServiceName    string
	ServiceVersion string
	// SampleRatio is the fraction of new traces recorded, in (0, 1];
	// anything else means 1. Requests that arrive with a traceparent follow
	// the caller's sampling decision.
	SampleRatio float64
}

// SetupTracing returns the tracer provider to hand to NewTracing, and the
// function that flushes and stops it on shutdown.
//
// With an endpoint it is an SDK provider exporting over OTLP/HTTP through a
// batch span processor (spans leave in the background, off the request
// path). The exporter also honours the other OTEL_EXPORTER_OTLP_* variables
// (headers, timeout, compression, TLS files) by itself. Without an endpoint
// it is a no-op provider: spans cost almost nothing, yet an incoming
// traceparent still flows through so logs carry the caller's trace id.
//
// The provider is not made the OTel global: pass it where it is needed
// (call otel.SetTracerProvider yourself for libraries that only use the
// global).
func SetupTracing(ctx context.Context, cfg TracingConfig) (shutdown func(context.Context) error, tp trace.TracerProvider, err error) {
	target, err := tracesURL(cfg)
	if err != nil {
		return nil, nil, err
	}
	if target == "" {
		return func(context.Context) error { return nil }, noop.NewTracerProvider(), nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(target))
	if err != nil {
		return nil, nil, fmt.Errorf("observe: otlp exporter: %w", err)
	}
	res, err := serviceResource(ctx, cfg)
	if err != nil {
		return nil, nil, errors.Join(err, exp.Shutdown(ctx))
	}
	return newProvider(res, sdktrace.NewBatchSpanProcessor(exp), cfg.SampleRatio)
}

// newProvider builds an SDK provider on sp; tests pass an in-memory
// processor.
func newProvider(res *resource.Resource, sp sdktrace.SpanProcessor, ratio float64) (func(context.Context) error, trace.TracerProvider, error) {
	if ratio <= 0 || ratio > 1 {
		ratio = 1
	}
	p := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(sp),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	)
	return p.Shutdown, p, nil
}

// tracesURL is the URL spans are posted to, "" when tracing is off.
func tracesURL(cfg TracingConfig) (string, error) {
	raw, path := cfg.TracesEndpoint, ""
	if raw == "" {
		raw, path = cfg.Endpoint, "/v1/traces"
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Checked here because the exporter would only log a bad URL and
		// then send to localhost:4318.
		return "", fmt.Errorf("observe: OTLP endpoint %q is not an http(s) URL", raw)
	}
	if path != "" {
		u.Path = strings.TrimSuffix(u.Path, "/") + path
	}
	return u.String(), nil
}

// serviceResource describes this process: service name and version from
// cfg, then OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, which override
// them, as operators expect of any OTel SDK.
func serviceResource(ctx context.Context, cfg TracingConfig) (*resource.Resource, error) {
	name := cfg.ServiceName
	if name == "" {
		name = "meridian"
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", name)}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", cfg.ServiceVersion))
	}
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attrs...),
		resource.WithFromEnv(),
	)
	if err != nil && res == nil {
		return nil, fmt.Errorf("observe: trace resource: %w", err)
	}
	if err != nil {
		// A partial resource (a malformed OTEL_RESOURCE_ATTRIBUTES entry,
		// say) is still worth exporting under; the OTel error handler
		// reports the rest.
		otel.Handle(err)
	}
	return res, nil
}
