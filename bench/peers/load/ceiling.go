package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// serveCeiling is the HTTP ceiling of make bench-peers: a Go net/http server
// that does the least any GraphQL server must do for a request — read the
// body, decode its JSON, write a response — and nothing else: no parsing of
// the operation, no validation, no SQL. It answers every POST with the bytes
// of responseFile (one Meridian response of the workload). The load
// generator's rps against it is the most this machine serves over HTTP with
// the same clients, so a server's rps can be read against it as well as
// against the pgbench floor of its SQL.
func serveCeiling(ctx context.Context, addr, responseFile string) error {
	resp, err := os.ReadFile(responseFile)
	if err != nil {
		return fmt.Errorf("ceiling response: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || req.Query == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(resp)
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ceiling listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(l); err != nil && err != http.ErrServerClosed {
		return fmt.Errorf("ceiling serve: %w", err)
	}
	return nil
}
