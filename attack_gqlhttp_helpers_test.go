package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// postAccept posts body to /query with the credential and an Accept header
// ("" sends none, as curl -H 'Accept:' does), and returns the status, the
// Content-Type and the decoded answer.
func (s *prodServer) postAccept(t testing.TB, credential, accept, body string) (status int, contentType string, r *gqlResult) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/query", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", credential)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /query: %v", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r = &gqlResult{Status: res.StatusCode, Header: res.Header}
	if err := json.Unmarshal(raw, r); err != nil {
		t.Fatalf("POST /query (Accept %q) answered %d, not JSON: %v: %.300s", accept, res.StatusCode, err, raw)
	}
	return res.StatusCode, res.Header.Get("Content-Type"), r
}
