package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics/eventstore"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/internal/testbus"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/internal/testlog"
	"github.com/meridian-graphql/meridian/internal/testredis"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/seed"
)

// prodServer is the real server, started by run as `meridian` starts in
// production: PostgreSQL, Redis and RabbitMQ of its own (a fresh database,
// a key prefix, a vhost), MERIDIAN_ENV=production, a small seeded data set
// and one API key per role. The attack suite talks to it over TCP only.
type prodServer struct {
	URL         string // http://127.0.0.1:port
	Addr        string
	MetricsAddr string
	DatabaseURL string
	Keys        map[auth.Role]string // role → API key
	Logs        *testlog.Buffer      // everything the server logged
	Vars        map[string]string    // the server's environment
	stop        func()
}

// startProduction starts a production server; env overrides or adds
// variables (a value of "" removes one). The server stops at cleanup. A
// DATABASE_URL in env is the database seeded and served instead of a
// fresh one on the shared PostgreSQL.
func startProduction(t *testing.T, env map[string]string) *prodServer {
	t.Helper()
	s := newProduction(t, env)
	s.serveInProcess(t)
	return s
}

// newProduction prepares what a production server runs on (database, seed,
// keys, Redis prefix, vhost) and its environment in s.Vars, without
// starting it: startProduction runs it in this process, a fault test may
// run it as a child process of its own to signal.
func newProduction(t *testing.T, env map[string]string) *prodServer {
	t.Helper()
	if os.Getenv("MERIDIAN_TEST_BACKENDS") == "sqlite" {
		t.Skip("the production server needs PostgreSQL, left out by MERIDIAN_TEST_BACKENDS")
	}
	rdb := testredis.Client(t)
	// A test that brings its own database (a private cluster it will
	// kill) passes DATABASE_URL; it is seeded like the fresh one.
	dbURL := env["DATABASE_URL"]
	if dbURL == "" {
		dbURL = testdb.NewPostgresDatabase(t)
	}
	keys := map[auth.Role]string{}
	seedProduction(t, dbURL, keys)
	vars := map[string]string{
		"MERIDIAN_ENV":          "production",
		"DATABASE_URL":          dbURL,
		"REDIS_URL":             testredis.URL(),
		"MERIDIAN_CACHE_PREFIX": testredis.Prefix(t, rdb, "attack"),
		"AMQP_URL":              testbus.VHost(t),
		"MERIDIAN_JWT_SECRET":   attackJWTSecret,
		"MERIDIAN_LOG_LEVEL":    "info",
		"MERIDIAN_LOG_FORMAT":   "json",
		"MERIDIAN_MODEL_REFIT":  "24h",
	}
	return prepareProduction(t, vars, keys, env)
}

// startPeer starts another instance beside first, as a second replica
// runs: the same database, API keys, Redis (URL and prefix) and bus vhost,
// addresses of its own; env overrides first's variables as for
// startProduction.
func startPeer(t *testing.T, first *prodServer, env map[string]string) *prodServer {
	t.Helper()
	s := prepareProduction(t, first.Vars, first.Keys, env)
	s.serveInProcess(t)
	return s
}

// prepareProduction is a server on vars (copied, given fresh listen
// addresses, then overridden by env), not started yet.
func prepareProduction(t *testing.T, base map[string]string, keys map[auth.Role]string, env map[string]string) *prodServer {
	t.Helper()
	vars := maps.Clone(base)
	s := &prodServer{Addr: freeAddr(t), MetricsAddr: freeAddr(t), Keys: keys, Logs: &testlog.Buffer{}, Vars: vars}
	s.URL = "http://" + s.Addr
	vars["MERIDIAN_ADDR"] = s.Addr
	vars["MERIDIAN_METRICS_ADDR"] = s.MetricsAddr
	for k, v := range env {
		if v == "" {
			delete(vars, k)
		} else {
			vars[k] = v
		}
	}
	s.DatabaseURL = vars["DATABASE_URL"]
	return s
}

// serveInProcess runs the server of s.Vars by run, logging into s.Logs,
// until cleanup (or s.stop), and returns once it is ready.
func (s *prodServer) serveInProcess(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return s.Vars[k] }, io.Discard, s.Logs) }()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("server: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("server did not stop within 30 s")
			}
		})
	}
	t.Cleanup(s.stop)
	s.waitReady(t, done)
}

// waitReady returns once the server answers /readyz with 200; the test
// fails if done reports the server's end first (and hands the report back
// for the cleanup's stop, which waits for it).
func (s *prodServer) waitReady(t *testing.T, done chan error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(s.URL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("production server not ready: %v\n%s", err, s.Logs)
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("production server stopped: %v\n%s", err, s.Logs)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// attackJWTSecret signs the suite's HS256 tokens.
const attackJWTSecret = "attack-suite-secret-of-at-least-32-bytes!"

// seedProduction fills the database at url with 200 users, their orders and
// events, and creates one API key per role into keys.
func seedProduction(t *testing.T, url string, keys map[auth.Role]string) {
	t.Helper()
	ctx := context.Background()
	// The server's migrations: every owner's tables, the event store's and
	// the API keys' among them.
	db, err := database.Open(ctx, url, "")
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	defer db.Close()
	opts := seed.Options{Users: 200, Seed: 7}
	if _, err := seed.Generate(ctx, db.Client, opts); err != nil {
		t.Fatalf("seed: %v", err)
	}
	events, _, err := eventstore.Open(ctx, "", "", db)
	if err != nil {
		t.Fatalf("event store: %v", err)
	}
	defer events.Close(context.Background())
	if _, err := seed.Events(ctx, db.Client, events, opts); err != nil {
		t.Fatalf("seed events: %v", err)
	}
	k := auth.NewKeys(db)
	for _, r := range []auth.Role{auth.Viewer, auth.Analyst, auth.Admin} {
		_, key, err := k.Create(ctx, "attack "+string(r), r)
		if err != nil {
			t.Fatal(err)
		}
		keys[r] = key
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// gqlResult is a decoded GraphQL answer with its HTTP status and headers.
type gqlResult struct {
	Status int
	Header http.Header
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the first error's extensions.code, or "".
func (r *gqlResult) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// query posts a GraphQL request body to /query with the credential (an API
// key, "Bearer …", or "" for none) and decodes the answer.
func (s *prodServer) query(t testing.TB, credential string, body any) *gqlResult {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return s.post(t, credential, "", b)
}

// post sends body to /query with the credential and an Accept header (""
// sends none) and decodes the answer, which must be JSON.
func (s *prodServer) post(t testing.TB, credential, accept string, body []byte) *gqlResult {
	t.Helper()
	out, err := s.send(credential, accept, body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// send is post without the test: for goroutines, which must not end it.
func (s *prodServer) send(credential, accept string, body []byte) (*gqlResult, error) {
	req, err := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if credential != "" {
		req.Header.Set("Authorization", credential)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST /query: %w", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := &gqlResult{Status: res.StatusCode, Header: res.Header}
	if err := json.Unmarshal(raw, out); err != nil {
		return out, fmt.Errorf("POST /query (Accept %q) answered %d, not JSON: %w: %.300s", accept, res.StatusCode, err, raw)
	}
	return out, nil
}

// gql posts {query, variables}.
func (s *prodServer) gql(t testing.TB, credential, q string, vars map[string]any) *gqlResult {
	t.Helper()
	return s.query(t, credential, map[string]any{"query": q, "variables": vars})
}

// get sends GET path with headers (name, value pairs) and returns the answer
// with its body read.
func (s *prodServer) get(t testing.TB, path string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	return s.request(t, http.MethodGet, path, "", headers...)
}
