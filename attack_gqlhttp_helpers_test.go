package main

import (
	"testing"
)

// postAccept posts body to /query with the credential and an Accept header
// ("" sends none, as curl -H 'Accept:' does), and returns the status, the
// Content-Type and the decoded answer.
func (s *prodServer) postAccept(t testing.TB, credential, accept, body string) (status int, contentType string, r *gqlResult) {
	t.Helper()
	r = s.post(t, credential, accept, []byte(body))
	return r.Status, r.Header.Get("Content-Type"), r
}
