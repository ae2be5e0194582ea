package observe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestOperationMetricsOnGqlgenTestserver(t *testing.T) {
	ts := newTestserver()
	s := newStack(t, stackOptions{gql: ts.Server})

	for range 2 {
		s.query(t, map[string]any{"query": "query Hello { name }"})
	}
	s.query(t, map[string]any{"query": "{ name }"})
	// A name the document does not define fails before execution; the
	// client-chosen name must not become a label.
	s.query(t, map[string]any{"query": "{ name }", "operationName": "drop table; --"})
	// The testserver answers mutations with an error without a path.
	s.query(t, map[string]any{"query": "mutation M { name }"})

	page := s.scrape(t, "")
	wantLines(t, page,
		`meridian_graphql_operation_duration_seconds_count{operation="Hello",type="query"} 2`,
		`meridian_graphql_operation_duration_seconds_count{operation="anonymous",type="query"} 1`,
		`meridian_graphql_operation_duration_seconds_count{operation="other",type="unknown"} 1`,
		`meridian_graphql_operation_duration_seconds_count{operation="M",type="mutation"} 1`,
		`meridian_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED",field="none"} 1`,
		`meridian_graphql_errors_total{code="none",field="none"} 1`,
		// The testserver's resolvers run no SQL; the histogram still
		// counts the operations.
		`meridian_sql_statements_per_request_count{operation="Hello",type="query"} 2`,
		`meridian_sql_statements_per_request_sum{operation="Hello",type="query"} 0`,
		`meridian_http_requests_total{code="200",method="POST",route="/query"} 4`,
		`meridian_http_requests_total{code="422",method="POST",route="/query"} 1`,
		`meridian_http_request_duration_seconds_count{code="200",method="POST",route="/query"} 4`,
	)
	for _, family := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total"} {
		if !strings.Contains(page, "\n"+family+" ") {
			t.Errorf("runtime/process metric %s missing", family)
		}
	}
	if strings.Contains(page, "drop table") {
		t.Error("a client-chosen operation name reached the metrics")
	}
}

func TestErrorsAttributedToSchemaFields(t *testing.T) {
	s := newStack(t, stackOptions{})
	_, body := s.query(t, map[string]any{"query": `query E {
		a: fail
		b: fail
		who: user { id oops: broken }
		...F
	}
	fragment F on Query { c: fail }`})
	if errs, _ := body["errors"].([]any); len(errs) != 4 {
		t.Fatalf("want 4 errors, got %v", body)
	}
	s.query(t, map[string]any{"query": "{ nope }"}) // validation
	s.query(t, map[string]any{"query": "{"})        // parse

	wantLines(t, s.scrape(t, ""),
		// Aliases and fragments are resolved back to the schema's names.
		`meridian_graphql_errors_total{code="NOT_FOUND",field="Query.fail"} 3`,
		`meridian_graphql_errors_total{code="INTERNAL",field="User.broken"} 1`,
		`meridian_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED",field="none"} 1`,
		`meridian_graphql_errors_total{code="GRAPHQL_PARSE_FAILED",field="none"} 1`,
	)
}

func TestSQLStatementsPerRequest(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.query(t, map[string]any{"query": "query Work { work(statements: 3) user { id } }"})
	s.query(t, map[string]any{"query": "query Work($n: Int!) { work(statements: $n) }", "variables": map[string]any{"n": 40}})
	wantLines(t, s.scrape(t, ""),
		`meridian_sql_statements_per_request_count{operation="Work",type="query"} 2`,
		`meridian_sql_statements_per_request_sum{operation="Work",type="query"} 44`,
		`meridian_sql_statements_per_request_bucket{operation="Work",type="query",le="3"} 0`,
		`meridian_sql_statements_per_request_bucket{operation="Work",type="query",le="5"} 1`,
		`meridian_sql_statements_per_request_bucket{operation="Work",type="query",le="55"} 2`,
	)
}

func TestOperationDurationIncludesTheResolvers(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.query(t, map[string]any{"query": "query Slow { work(statements: 0, sleepMs: 30) }"})
	page := s.scrape(t, "")
	wantLines(t, page,
		`meridian_graphql_operation_duration_seconds_bucket{operation="Slow",type="query",le="0.025"} 0`,
		`meridian_graphql_operation_duration_seconds_bucket{operation="Slow",type="query",le="+Inf"} 1`,
	)
}

func TestOperationNameCardinality(t *testing.T) {
	m, err := NewMetrics(nil, MetricsOptions{MaxLabelValues: 2})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestserver()
	ts.Use(m.GraphQL())
	srv := httptest.NewServer(ts)
	defer srv.Close()
	for _, name := range []string{"A", "B", "C", "D", "A"} {
		post(t, srv.URL, fmt.Sprintf(`{"query":"query %s { name }"}`, name))
	}
	page := gather(t, m)
	wantLines(t, page,
		`meridian_graphql_operation_duration_seconds_count{operation="A",type="query"} 2`,
		`meridian_graphql_operation_duration_seconds_count{operation="B",type="query"} 1`,
		`meridian_graphql_operation_duration_seconds_count{operation="other",type="query"} 2`,
	)
	if strings.Contains(page, `operation="C"`) || strings.Contains(page, `operation="D"`) {
		t.Error("names past the cap got their own series")
	}
}

func TestValidName(t *testing.T) {
	long := strings.Repeat("a", 64)
	for name, want := range map[string]bool{
		"Hello": true, "_x9": true, long: true, long + "a": false,
		"": false, "9lives": false, "with space": false, "é": false, "a-b": false,
	} {
		if validName(name) != want {
			t.Errorf("validName(%q) = %v", name, !want)
		}
	}
}

func TestHTTPMetrics(t *testing.T) {
	s := newStack(t, stackOptions{})
	for _, c := range []struct{ method, path string }{
		{"GET", "/nowhere"}, {"BREW", "/query"}, {"GET", "/metrics"},
	} {
		req, _ := http.NewRequest(c.method, s.srv.URL+c.path, nil)
		resp, err := s.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	wantLines(t, s.scrape(t, ""),
		`meridian_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		// gqlgen has no transport for BREW.
		`meridian_http_requests_total{code="400",method="other",route="/query"} 1`,
		`meridian_http_requests_total{code="200",method="GET",route="/metrics"} 1`,
	)
}

// TestHTTPMetricsRouteIsThePattern: over real HTTP, requests are labelled
// with the path of the ServeMux pattern that served them (a wildcard
// route's once for all its paths, the mux's redirect to a pattern's with
// that pattern); a path no pattern matches and a method the pattern
// refuses are "unmatched". No request path reaches a label.
func TestHTTPMetricsRouteIsThePattern(t *testing.T) {
	m, err := NewMetrics(nil, MetricsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
	mux := http.NewServeMux()
	mux.HandleFunc("/query", ok)
	mux.HandleFunc("GET /readyz", ok)
	mux.HandleFunc("GET /items/{id}", ok)
	mux.HandleFunc("GET /dashboard/", ok)
	mux.Handle("GET /metrics", m.Handler())
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	random := fmt.Sprintf("/nowhere-%d/%x", time.Now().UnixNano(), time.Now().UnixNano()*7)
	for _, c := range []struct{ method, path string }{
		{"POST", "/query"}, {"GET", "/query"}, {"GET", "/readyz"}, {"POST", "/readyz"},
		{"GET", "/items/a1"}, {"GET", "/items/b2"}, {"GET", "/dashboard/app.js"},
		{"GET", "/dashboard"}, {"GET", random},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	resp, err := client.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	wantLines(t, page,
		`meridian_http_requests_total{code="204",method="POST",route="/query"} 1`,
		`meridian_http_requests_total{code="204",method="GET",route="/query"} 1`,
		`meridian_http_requests_total{code="204",method="GET",route="/readyz"} 1`,
		`meridian_http_requests_total{code="405",method="POST",route="unmatched"} 1`,
		`meridian_http_requests_total{code="204",method="GET",route="/items/{id}"} 2`,
		`meridian_http_requests_total{code="204",method="GET",route="/dashboard/"} 1`,
		// The mux redirects /dashboard to the pattern it would match.
		`meridian_http_requests_total{code="307",method="GET",route="/dashboard/"} 1`,
		`meridian_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`meridian_http_request_duration_seconds_count{code="204",method="GET",route="/readyz"} 1`,
	)
	for _, leak := range []string{"nowhere", "a1", "b2", "app.js"} {
		if strings.Contains(page, leak) {
			t.Errorf("request path %q reached the metrics:\n%s", leak, grepMeridian(page))
		}
	}
}

func TestHTTPMetricsCountPanics(t *testing.T) {
	m, _ := NewMetrics(nil, MetricsOptions{})
	h := m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("panic %v did not go on", v)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	if got := testutil.ToFloat64(m.httpRequests.WithLabelValues("500", "GET", "unmatched")); got != 1 {
		t.Fatalf("500s = %v", got)
	}
}

// TestStreamsCountButAreNotTimed: an SSE subscription is one request
// whose duration is the session, so it is counted but kept out of the
// latency histogram; its events are kept out of the operation histogram.
func TestStreamsCountButAreNotTimed(t *testing.T) {
	ts := newTestserver()
	s := newStack(t, stackOptions{gql: ts.Server})

	done := make(chan string)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/query", strings.NewReader(`{"query":"subscription S { name }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		resp, err := s.srv.Client().Do(req)
		if err != nil {
			done <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- string(b)
	}()
	ts.SendNextSubscriptionMessage()
	ts.SendCompleteSubscriptionMessage()
	select {
	case body := <-done:
		if !strings.Contains(body, `"name":"test"`) {
			t.Fatalf("stream: %q", body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream did not end")
	}

	page := s.scrape(t, "")
	wantLines(t, page, `meridian_http_requests_total{code="200",method="POST",route="/query"} 1`)
	if strings.Contains(page, `meridian_http_request_duration_seconds_count{code="200",method="POST",route="/query"}`) {
		t.Error("an SSE stream was timed")
	}
	if strings.Contains(page, `type="subscription"`) {
		t.Error("subscription events were timed as operations")
	}
}

// TestHijackedConnectionsAreNotTimed: a WebSocket upgrade hijacks the
// connection through the middleware's writer.
func TestHijackedConnectionsAreNotTimed(t *testing.T) {
	m, _ := NewMetrics(nil, MetricsOptions{})
	srv := httptest.NewServer(m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
		rw.Flush()
		c.Close()
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The client has its 101 before the handler returns and records it.
	deadline := time.Now().Add(5 * time.Second)
	for testutil.CollectAndCount(m.httpRequests) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := testutil.ToFloat64(m.httpRequests.WithLabelValues("101", "GET", "unmatched")); got != 1 {
		t.Fatalf("101s = %v", got)
	}
	if n := testutil.CollectAndCount(m.httpDuration); n != 0 {
		t.Fatalf("hijacked connection timed (%d series)", n)
	}
}

func TestExemplarsCarryTheTraceID(t *testing.T) {
	tr, _ := recordingTracing(t, TraceOptions{})
	s := newStack(t, stackOptions{tracing: tr})
	s.query(t, map[string]any{"query": "query Hello { name }"},
		"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	page := s.scrape(t, "application/openmetrics-text; version=1.0.0")
	if !strings.Contains(page, `# {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"}`) {
		t.Fatalf("no exemplar with the trace id:\n%s", grepMeridian(page))
	}
}

func post(t testing.TB, url, body string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// gather renders m's registry as the /metrics page would.
func gather(t testing.TB, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil).WithContext(context.Background()))
	return rec.Body.String()
}
