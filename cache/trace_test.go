package cache

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/meridian-graphql/meridian/internal/testredis"
)

// TestTraceRedis: with the hooks on, commands and pipelines run under a
// span leave CLIENT spans beneath it, named by command, recording neither
// keys nor values.
func TestTraceRedis(t *testing.T) {
	probe := testredis.Client(t) // skips without a Redis
	prefix := testredis.Prefix(t, probe, "trace")
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	rdb, err := NewRedisClient(testredis.URL(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	if err := TraceRedis(rdb, tp); err != nil {
		t.Fatal(err)
	}

	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	if err := rdb.Set(ctx, prefix+"secret-key", "secret-value", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Get(ctx, prefix+"secret-key").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, prefix+"secret-counter")
		p.Expire(ctx, prefix+"secret-counter", time.Minute)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	parent.End()

	var names []string
	for _, s := range rec.Ended() {
		if s.Parent().SpanID() != parent.SpanContext().SpanID() {
			continue
		}
		names = append(names, s.Name())
		if s.SpanKind() != trace.SpanKindClient {
			t.Errorf("%s: kind %v", s.Name(), s.SpanKind())
		}
		for _, kv := range s.Attributes() {
			if strings.Contains(kv.Value.Emit(), "secret") {
				t.Errorf("%s: %s records a key or value: %s", s.Name(), kv.Key, kv.Value.Emit())
			}
		}
	}
	for _, want := range []string{"set", "get", "redis.pipeline incr expire"} {
		if !slices.Contains(names, want) {
			t.Errorf("spans under the request %v: no %q", names, want)
		}
	}
}
