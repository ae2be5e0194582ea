package observe

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/internal/testlog"
)

func TestRequestIDGivenOrGenerated(t *testing.T) {
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, c := range []struct {
		name, given string
		keep        bool
	}{
		{"sane", "abc-123_X.y", true},
		{"max length", strings.Repeat("a", 64), true},
		{"absent", "", false},
		{"too long", strings.Repeat("a", 65), false},
		{"log injection", "a\" injected=\"1", false},
		{"space", "a b", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var inCtx string
			h := RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inCtx = RequestIDFrom(r.Context())
			}))
			req := httptest.NewRequest("GET", "/", nil)
			if c.given != "" {
				req.Header.Set("X-Request-ID", c.given)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Request-ID")
			if got != inCtx {
				t.Fatalf("header %q, context %q", got, inCtx)
			}
			if c.keep && got != c.given {
				t.Fatalf("sane id %q replaced by %q", c.given, got)
			}
			if !c.keep && !generated.MatchString(got) {
				t.Fatalf("generated id %q", got)
			}
		})
	}
	if RequestIDFrom(context.Background()) != "" {
		t.Error("id from an empty context")
	}
}

func TestGeneratedIDsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newRequestID()
		if seen[id] {
			t.Fatal("duplicate id")
		}
		seen[id] = true
	}
}

// TestResolverLogsCarryTheRequestID: the id travels from the header
// through gqlgen into a resolver's log record, and back to the client.
func TestResolverLogsCarryTheRequestID(t *testing.T) {
	tr, _ := recordingTracing(t, TraceOptions{})
	s := newStack(t, stackOptions{tracing: tr})

	resp, _ := s.query(t, map[string]any{"query": "{ log }"}, "X-Request-ID", "client-id-1",
		"traceparent", "00-"+incomingTrace+"-"+incomingParent+"-01")
	if got := resp.Header.Get("X-Request-ID"); got != "client-id-1" {
		t.Fatalf("response id %q", got)
	}
	resp, _ = s.query(t, map[string]any{"query": "{ log }"})
	generated := resp.Header.Get("X-Request-ID")

	recs := s.records(t)
	if len(recs) != 2 {
		t.Fatalf("records %v", recs)
	}
	if recs[0]["request_id"] != "client-id-1" || recs[0]["trace_id"] != incomingTrace || recs[0]["span_id"] == nil {
		t.Errorf("first record %v", recs[0])
	}
	if recs[1]["request_id"] != generated || generated == "" {
		t.Errorf("second record %v, response id %q", recs[1], generated)
	}
	if recs[1]["trace_id"] == incomingTrace {
		t.Error("second request reused the first one's trace")
	}
}

func TestLogHandlerWithoutContextValues(t *testing.T) {
	var buf testlog.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil)))
	log.Info("plain")
	log.InfoContext(context.Background(), "background")
	for _, r := range parseRecords(t, buf.String()) {
		for _, k := range []string{"request_id", "trace_id", "span_id"} {
			if _, ok := r[k]; ok {
				t.Errorf("record %v has %s", r, k)
			}
		}
	}
}

func TestLogHandlerKeepsWrappingThroughWithAndGroups(t *testing.T) {
	var buf testlog.Buffer
	base := LogHandler(slog.NewJSONHandler(&buf, nil))
	if LogHandler(base) != base {
		t.Error("wrapping twice would add the attributes twice")
	}
	ctx := WithRequestID(context.Background(), "r-7")
	log := slog.New(base).With("component", "consumers")
	log.InfoContext(ctx, "with")
	log.WithGroup("g").InfoContext(ctx, "grouped", "k", 1)
	recs := parseRecords(t, buf.String())
	if recs[0]["request_id"] != "r-7" || recs[0]["component"] != "consumers" {
		t.Errorf("record %v", recs[0])
	}
	if g, _ := recs[1]["g"].(map[string]any); g["request_id"] != "r-7" {
		t.Errorf("grouped record %v", recs[1])
	}
	if !addsRequestID(log) || addsRequestID(slog.New(slog.NewJSONHandler(&buf, nil))) {
		t.Error("addsRequestID")
	}
	if strings.Count(buf.String(), "request_id") != 2 {
		t.Errorf("request_id not once per record:\n%s", buf.String())
	}
}

func TestLogHandlerHonoursLevel(t *testing.T) {
	var buf testlog.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	log.InfoContext(WithRequestID(context.Background(), "x"), "dropped")
	if buf.String() != "" {
		t.Errorf("info logged at warn level: %s", buf.String())
	}
}
