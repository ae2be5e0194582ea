package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// runProductionConfig runs the server as `meridian` starts in production,
// with backends that do not answer (port 1), plus env; it returns run's
// error. A configuration production refuses fails at once, naming its
// variable; any other one gets as far as dialling the database and fails
// there (or runs until the 15 s deadline).
func runProductionConfig(t *testing.T, env map[string]string) error {
	t.Helper()
	vars := map[string]string{
		"MERIDIAN_ENV":           "production",
		"MERIDIAN_ADDR":          "127.0.0.1:0",
		"MERIDIAN_METRICS_ADDR":  "localhost:0",
		"MERIDIAN_METRICS_TOKEN": "",
		"DATABASE_URL":           "postgres://127.0.0.1:1/none?connect_timeout=1",
		"REDIS_URL":              "redis://127.0.0.1:1",
		"AMQP_URL":               "amqp://guest:guest@127.0.0.1:1/",
		"MERIDIAN_JWT_SECRET":    attackJWTSecret,
	}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return run(ctx, nil, func(k string) string { return vars[k] }, io.Discard, io.Discard)
}

// forgedKey is a well-formed API key that does not exist: it passes the
// format check, so verifying it costs a database lookup.
func forgedKey(i int) string {
	id := strings.Map(func(r rune) rune { return 'a' + r - '0' }, fmt.Sprintf("%016d", i))
	return "mrd_" + id + "_" + strings.Repeat("q", 32)
}

// queryFrom posts a query to /query as if through a trusted proxy for
// client (X-Forwarded-For), with the credential.
func (s *prodServer) queryFrom(t *testing.T, client, credential, query string) *gqlResult {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", client)
	req.Header.Set("Authorization", credential)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /query: %v", err)
	}
	defer res.Body.Close()
	out := &gqlResult{Status: res.StatusCode, Header: res.Header}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("POST /query answered %d, not JSON: %v", res.StatusCode, err)
	}
	return out
}

// forgedCursor is base64 of bytes that are not the msgpack entgql writes.
var forgedCursor = base64.StdEncoding.EncodeToString([]byte{0x92, 0xc1, 0xff, 0x01})
