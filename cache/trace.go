package cache

import (
	"fmt"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
)

// TraceRedis adds go-redis's OpenTelemetry hooks to rdb: a CLIENT span per
// command ("get", "evalsha", …) and per pipeline, on tp. The commands'
// arguments (keys, cached values) are not recorded, nor the calling code
// line, which costs a stack walk per command. Call it only when tracing is
// on: the hooks allocate per command even when nothing records.
func TraceRedis(rdb *redis.Client, tp trace.TracerProvider) error {
	if err := redisotel.InstrumentTracing(rdb,
		redisotel.WithTracerProvider(tp),
		redisotel.WithDBStatement(false),
		redisotel.WithCallerEnabled(false),
	); err != nil {
		return fmt.Errorf("cache: trace redis: %w", err)
	}
	return nil
}
