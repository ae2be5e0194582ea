package mongostore

import (
	"context"
	"net"
	"strconv"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

const tracerName = "github.com/meridian-graphql/meridian/analytics/mongostore"

// commandTracer spans the driver's commands through its command monitor
// (the driver has no OpenTelemetry support of its own, and the contrib
// otelmongo for driver v2 has no release): a CLIENT span per command,
// named "find events", "insert profiles", …, from the command's start to
// its reply. The command document (filters, values) is not recorded.
type commandTracer struct {
	tracer trace.Tracer
	mu     sync.Mutex
	spans  map[commandKey]trace.Span
}

// commandKey identifies a command in flight: request ids are unique per
// connection.
type commandKey struct {
	conn string
	id   int64
}

// newCommandMonitor returns the monitor that spans commands on tp.
func newCommandMonitor(tp trace.TracerProvider) *event.CommandMonitor {
	t := &commandTracer{tracer: tp.Tracer(tracerName), spans: map[commandKey]trace.Span{}}
	return &event.CommandMonitor{Started: t.started, Succeeded: t.succeeded, Failed: t.failed}
}

func (t *commandTracer) started(ctx context.Context, e *event.CommandStartedEvent) {
	_, span := t.tracer.Start(ctx, e.CommandName, trace.WithSpanKind(trace.SpanKindClient))
	if !span.IsRecording() {
		// No parent (ChildSpansOnly) or not sampled: nothing to keep.
		span.End()
		return
	}
	attrs := []attribute.KeyValue{
		attribute.String("db.system.name", "mongodb"),
		attribute.String("db.operation.name", e.CommandName),
		attribute.String("db.namespace", e.DatabaseName),
	}
	if coll := collectionOf(e.Command); coll != "" {
		span.SetName(e.CommandName + " " + coll)
		attrs = append(attrs, attribute.String("db.collection.name", coll))
	}
	if host, port, err := net.SplitHostPort(e.ConnectionID); err == nil {
		attrs = append(attrs, attribute.String("server.address", host))
		if p, err := strconv.Atoi(trimConnSuffix(port)); err == nil {
			attrs = append(attrs, attribute.Int("server.port", p))
		}
	}
	span.SetAttributes(attrs...)
	t.mu.Lock()
	t.spans[commandKey{e.ConnectionID, e.RequestID}] = span
	t.mu.Unlock()
}

func (t *commandTracer) take(conn string, id int64) trace.Span {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := commandKey{conn, id}
	span, ok := t.spans[k]
	if ok {
		delete(t.spans, k)
	}
	return span
}

func (t *commandTracer) succeeded(_ context.Context, e *event.CommandSucceededEvent) {
	if span := t.take(e.ConnectionID, e.RequestID); span != nil {
		span.End()
	}
}

func (t *commandTracer) failed(_ context.Context, e *event.CommandFailedEvent) {
	if span := t.take(e.ConnectionID, e.RequestID); span != nil {
		span.RecordError(e.Failure)
		span.SetStatus(codes.Error, e.Failure.Error())
		span.End()
	}
}

// collectionOf is the collection a command acts on: the value of its
// first element when that is a string ({find: "events", …}).
func collectionOf(cmd bson.Raw) string {
	first, err := cmd.IndexErr(0)
	if err != nil {
		return ""
	}
	s, _ := first.Value().StringValueOK()
	return s
}

// trimConnSuffix drops what follows the port in a driver connection id
// ("localhost:27017[-12]").
func trimConnSuffix(port string) string {
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return port[:i]
		}
	}
	return port
}
