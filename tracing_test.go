package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/testdb"
)

// TestTraceOfAMutation assembles the real app on PostgreSQL, Redis and
// RabbitMQ with an in-memory span recorder, sends one createUser over HTTP
// and follows its trace end to end: the HTTP server span, the GraphQL
// operation beneath it, its SQL statements and Redis commands, the outbox
// event published by the relay (a PRODUCER span, child of the operation
// although the relay publishes it later from its own loop), and the
// CONSUMER span of every queue the event reached — child of the publish
// span, or linked to it when the queue handed it over in a batch with
// other messages — down to the notification the sign-up consumer sends
// on. The statements of a consumer are children of its span.
func TestTraceOfAMutation(t *testing.T) {
	if !slices.Contains(testdb.Backends(), "postgres") {
		t.Skip("PostgreSQL left out by MERIDIAN_TEST_BACKENDS")
	}
	cfg := backedConfig(t, map[string]string{"MERIDIAN_ANONYMOUS_ROLE": "admin", "MERIDIAN_ANONYMOUS_WRITES": "true"})
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	a, err := openApp(t.Context(), cfg, slog.New(slog.DiscardHandler), withTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	bg, stopLoops := context.WithCancel(context.Background())
	l := a.start(bg, bg)
	srv := httptest.NewServer(httpapi.NewHandler(a.handlerDeps(httpapi.NewDrain())))
	t.Cleanup(func() {
		srv.Close()
		stopLoops()
		wait, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, w := range append([]*worker{l.consumers, l.relay, l.hub}, l.jobs...) {
			if err := w.stop(wait); err != nil {
				t.Errorf("loop: %v", err)
			}
		}
		if err := a.close(); err != nil {
			t.Errorf("close: %v", err)
		}
		_ = tp.Shutdown(context.Background())
	})

	body, _ := json.Marshal(map[string]any{
		"query":     `mutation SignUp($n: String!, $e: String!) { createUser(input: {username: $n, email: $e}) { id } }`,
		"variables": map[string]any{"n": "traced", "e": "traced@example.com"},
	})
	res, err := http.Post(srv.URL+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Data   struct{ CreateUser struct{ ID string } }
		Errors []any
	}
	err = json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	if err != nil || len(out.Errors) > 0 || out.Data.CreateUser.ID == "" {
		t.Fatalf("createUser: %v, %v", err, out.Errors)
	}

	// The consumers of user.created, and the sign-up's notification.
	queues := []string{consumers.QueueIngest, consumers.QueueSignup, "cache", consumers.QueueNotifications}
	var tr traceView
	deadline := time.Now().Add(30 * time.Second)
	for {
		tr = newTraceView(rec.Ended())
		if tr.complete(queues) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the trace is incomplete after 30s; spans:\n%s", tr.dump())
		}
		time.Sleep(100 * time.Millisecond)
	}

	op := tr.gql
	server := tr.parent(op)
	if server == nil || server.SpanKind() != trace.SpanKindServer || server.Parent().IsValid() {
		t.Fatalf("the GraphQL operation's parent is %v, want the HTTP server span at the root", server)
	}
	id := op.SpanContext().TraceID()
	var sqlSpans, redisSpans []string
	for _, s := range tr.spans {
		if s.SpanContext().TraceID() != id || !tr.descends(s, op) {
			continue
		}
		switch {
		case attrOf(s, "db.system.name") == "postgresql":
			sqlSpans = append(sqlSpans, s.Name())
		case attrOf(s, "db.system") == "redis":
			redisSpans = append(redisSpans, s.Name())
		}
	}
	if !slices.Contains(sqlSpans, "INSERT") || !slices.Contains(sqlSpans, "COMMIT") {
		t.Errorf("SQL spans under the operation %v: want the INSERTs and the COMMIT", sqlSpans)
	}
	if len(redisSpans) == 0 {
		t.Error("no Redis span under the operation (the cache's invalidation)")
	}

	pub := tr.publish("user.created")
	if pub.SpanKind() != trace.SpanKindProducer || pub.SpanContext().TraceID() != id || !tr.descends(pub, op) {
		t.Errorf("publish of user.created: kind %v, trace %v, parent %v: want a PRODUCER span beneath the operation %v", pub.SpanKind(), pub.SpanContext().TraceID(), pub.Parent().SpanID(), op.SpanContext().SpanID())
	}
	if got := attrOf(pub, "messaging.system"); got != "rabbitmq" {
		t.Errorf("publish span messaging.system = %q", got)
	}
	for _, q := range queues[:3] {
		c := tr.consumerOf(q, pub)
		if c.SpanKind() != trace.SpanKindConsumer || attrOf(c, "messaging.destination.name") != "data_processing" {
			t.Errorf("%s: kind %v, destination %q", q, c.SpanKind(), attrOf(c, "messaging.destination.name"))
		}
	}
	signup := tr.consumerOf(consumers.QueueSignup, pub)
	if signup.Parent().SpanID() == pub.SpanContext().SpanID() {
		stmts := 0
		for _, s := range tr.spans {
			if attrOf(s, "db.system.name") == "postgresql" && tr.descends(s, signup) {
				stmts++
			}
		}
		if stmts == 0 {
			t.Error("the sign-up consumer's statements are not children of its span")
		}
		note := tr.consumerOf(consumers.QueueNotifications, tr.publish(consumers.TypeEmail))
		if note.SpanContext().TraceID() != id && !linkedTo(note, tr.publish(consumers.TypeEmail)) {
			t.Error("the notification the sign-up sent is not in the mutation's trace")
		}
	}
}

// traceView indexes the recorded spans.
type traceView struct {
	spans []sdktrace.ReadOnlySpan
	byID  map[trace.SpanID]sdktrace.ReadOnlySpan
	gql   sdktrace.ReadOnlySpan // the SignUp operation
}

func newTraceView(spans []sdktrace.ReadOnlySpan) traceView {
	v := traceView{spans: spans, byID: map[trace.SpanID]sdktrace.ReadOnlySpan{}}
	for _, s := range spans {
		v.byID[s.SpanContext().SpanID()] = s
		if attrOf(s, "graphql.operation.name") == "SignUp" {
			v.gql = s
		}
	}
	return v
}

func (v traceView) parent(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	return v.byID[s.Parent().SpanID()]
}

// descends reports whether ancestor is s's parent, or its parent's, …
func (v traceView) descends(s, ancestor sdktrace.ReadOnlySpan) bool {
	for p := v.parent(s); p != nil; p = v.parent(p) {
		if p.SpanContext().SpanID() == ancestor.SpanContext().SpanID() {
			return true
		}
	}
	return false
}

// publish is the PRODUCER span of the message of type typ in the
// operation's trace, nil when there is none yet.
func (v traceView) publish(typ string) sdktrace.ReadOnlySpan {
	for _, s := range v.spans {
		if s.SpanKind() == trace.SpanKindProducer && attrOf(s, "messaging.rabbitmq.destination.routing_key") == typ &&
			v.gql != nil && s.SpanContext().TraceID() == v.gql.SpanContext().TraceID() {
			return s
		}
	}
	return nil
}

// consumerOf is the CONSUMER span of queue that handled the message
// published under pub: its child, or a batch's span linked to it.
func (v traceView) consumerOf(queue string, pub sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	if pub == nil {
		return nil
	}
	for _, s := range v.spans {
		if s.SpanKind() == trace.SpanKindConsumer && s.Name() == "process "+queue &&
			(s.Parent().SpanID() == pub.SpanContext().SpanID() || linkedTo(s, pub)) {
			return s
		}
	}
	return nil
}

// complete reports whether the trace has come to every queue.
func (v traceView) complete(queues []string) bool {
	if v.gql == nil {
		return false
	}
	pub := v.publish("user.created")
	for _, q := range queues {
		from := pub
		if q == consumers.QueueNotifications {
			from = v.publish(consumers.TypeEmail)
		}
		if v.consumerOf(q, from) == nil {
			return false
		}
	}
	return true
}

func (v traceView) dump() string {
	var b strings.Builder
	for _, s := range v.spans {
		b.WriteString(s.SpanKind().String() + " " + s.Name() + " trace=" + s.SpanContext().TraceID().String() +
			" span=" + s.SpanContext().SpanID().String() + " parent=" + s.Parent().SpanID().String() + "\n")
	}
	return b.String()
}

func linkedTo(s, target sdktrace.ReadOnlySpan) bool {
	if target == nil {
		return false
	}
	for _, l := range s.Links() {
		if l.SpanContext.SpanID() == target.SpanContext().SpanID() {
			return true
		}
	}
	return false
}

func attrOf(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if kv.Key == attribute.Key(key) {
			return kv.Value.Emit()
		}
	}
	return ""
}
