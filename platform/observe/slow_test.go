package observe

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/meridian-graphql/meridian/internal/testlog"
)

func TestSlowQueryLog(t *testing.T) {
	s := newStack(t, stackOptions{slow: &SlowQueries{Threshold: 0, StatementsOf: statementsOf}})
	s.query(t, map[string]any{
		"query":     "query Work($n: Int!, $secret: String) { work(statements: $n, note: $secret) }",
		"variables": map[string]any{"n": 4, "secret": "alice@example.com"},
	}, "X-Request-ID", "slow-1")

	recs := s.records(t)
	if len(recs) != 1 {
		t.Fatalf("records %v", recs)
	}
	r := recs[0]
	if r["level"] != "WARN" || r["msg"] != "slow graphql operation" || r["operation"] != "Work" ||
		r["type"] != "query" || r["sql_statements"] != 4.0 || r["request_id"] != "slow-1" || r["errors"] != 0.0 {
		t.Errorf("record %v", r)
	}
	if d, _ := r["duration_ms"].(float64); d <= 0 {
		t.Errorf("duration_ms %v", r["duration_ms"])
	}
	if q, _ := r["query"].(string); !strings.HasPrefix(q, "query Work(") {
		t.Errorf("query %q", q)
	}
	if strings.Contains(s.logs.String(), "alice@example.com") {
		t.Error("variables were logged")
	}
	// The logger adds request_id itself; the record must not hold it twice.
	if n := strings.Count(s.logs.String(), `"request_id"`); n != 1 {
		t.Errorf("request_id %d times", n)
	}
}

func TestSlowQueryLogTruncatesTheQuery(t *testing.T) {
	s := newStack(t, stackOptions{slow: &SlowQueries{}})
	long := "query Long { name }\n# " + strings.Repeat("é", 3000)
	s.query(t, map[string]any{"query": long})
	r := s.records(t)[0]
	q, _ := r["query"].(string)
	if len(q) > maxLoggedQuery || len(q) < maxLoggedQuery-1 || !utf8.ValidString(q) {
		t.Errorf("logged query of %d bytes (valid UTF-8: %v)", len(q), utf8.ValidString(q))
	}
	if r["query_bytes"] != float64(len(long)) {
		t.Errorf("query_bytes %v, want %d", r["query_bytes"], len(long))
	}
}

func TestSlowQueryLogThreshold(t *testing.T) {
	s := newStack(t, stackOptions{slow: &SlowQueries{Threshold: 20 * time.Millisecond}})
	s.query(t, map[string]any{"query": "query Fast { name }"})
	s.query(t, map[string]any{"query": "query Slow { work(statements: 0, sleepMs: 30) }"})
	recs := s.records(t)
	if len(recs) != 1 || recs[0]["operation"] != "Slow" {
		t.Fatalf("records %v", recs)
	}
	if d, _ := recs[0]["duration_ms"].(float64); d < 30 {
		t.Errorf("duration_ms %v < the resolver's sleep", d)
	}

	off := newStack(t, stackOptions{slow: &SlowQueries{Threshold: -1}})
	off.query(t, map[string]any{"query": "query Slow { work(statements: 0, sleepMs: 1) }"})
	if off.logs.String() != "" {
		t.Error("negative threshold logged")
	}
}

func TestSlowQueryLogOnPlainLogger(t *testing.T) {
	// A logger without LogHandler gets request_id from the extension.
	var buf testlog.Buffer
	s := newStack(t, stackOptions{slow: &SlowQueries{Log: newPlainLogger(&buf)}})
	s.query(t, map[string]any{"query": "{ name }"}, "X-Request-ID", "plain-1")
	r := parseRecords(t, buf.String())[0]
	if r["request_id"] != "plain-1" || r["operation"] != "" {
		t.Errorf("record %v", r)
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
		cut  bool
	}{
		{"abc", 3, "abc", false}, {"abcd", 3, "abc", true}, {"aé", 2, "a", true}, {"éé", 3, "é", true},
	} {
		if got, cut := truncate(c.in, c.n); got != c.want || cut != c.cut {
			t.Errorf("truncate(%q, %d) = %q, %v", c.in, c.n, got, cut)
		}
	}
}
