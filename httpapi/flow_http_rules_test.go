package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
)

// TestHTTPRules drives the real server through the GraphQL-over-HTTP rules
// (package gqlhttp tests each rule in depth) and the hostile requests of
// the robustness list: every refusal has its status and a coded error, and
// 10 MB bodies are refused without the server's memory growing.
func TestHTTPRules(t *testing.T) {
	c := gqltest.Serve(t, httpapi.Deps{DB: testdb.Open(t, "sqlite"), Auth: gqltest.Grant(auth.Viewer)})
	do := func(method, ctype, accept, body string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, c.URL()+"/query", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	const q = `{"query": "{ countries(first: 1) { totalCount } }"}`
	const gqlResp = "application/graphql-response+json"
	for _, tc := range []struct {
		name, method, ctype, accept, body string
		status                            int
		respType                          string
	}{
		{"result", "POST", "application/json", gqlResp, q, 200, gqlResp},
		{"legacy client", "POST", "application/json", "application/json", q, 200, "application/json"},
		{"validation error, new media type", "POST", "application/json", gqlResp, `{"query": "{ nope }"}`, 400, gqlResp},
		{"validation error, legacy media type", "POST", "application/json", "application/json", `{"query": "{ nope }"}`, 200, "application/json"},
		{"malformed JSON", "POST", "application/json", gqlResp, `{"query": `, 400, gqlResp},
		{"query not a string", "POST", "application/json", gqlResp, `{"query": 42}`, 400, gqlResp},
		{"wrong content type", "POST", "text/plain", gqlResp, q, 415, ""},
		{"form post", "POST", "application/x-www-form-urlencoded", gqlResp, "query=%7B__typename%7D", 415, ""},
		{"not acceptable", "POST", "application/json", "text/html", q, 406, ""},
		{"PUT", "PUT", "application/json", gqlResp, q, 405, ""},
		{"GET mutation", "GET", "", gqlResp, "", 405, ""},
	} {
		method, body := tc.method, tc.body
		url := ""
		if tc.name == "GET mutation" {
			url = "?query=" + "mutation%20%7B%20refitModels%20%7B%20scoredUsers%20%7D%20%7D"
		}
		req := func() (*http.Response, []byte) {
			if url != "" {
				res, err := http.Get(c.URL() + "/query" + url)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res, b
			}
			return do(method, tc.ctype, tc.accept, body)
		}
		res, b := req()
		if res.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, res.StatusCode, tc.status, b)
			continue
		}
		if tc.respType != "" && !strings.HasPrefix(res.Header.Get("Content-Type"), tc.respType) {
			t.Errorf("%s: Content-Type %q, want %s", tc.name, res.Header.Get("Content-Type"), tc.respType)
		}
		if tc.status >= 400 && tc.status != 406 {
			var out struct{ Errors []gqltest.Error }
			if err := json.Unmarshal(b, &out); err != nil || len(out.Errors) == 0 || out.Errors[0].Code() == "" {
				t.Errorf("%s: body %s has no coded error", tc.name, b)
			}
		}
	}

	// Ten 10 MB bodies: refused by their length, never read into memory.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	big := bytes.Repeat([]byte("a"), 10<<20)
	for range 10 {
		res, b := do("POST", "application/json", gqlResp, `{"query": "{ __typename }", "x": "`+string(big)+`"}`)
		if res.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(b, []byte("PAYLOAD_TOO_LARGE")) {
			t.Fatalf("10 MB body: status %d, %s", res.StatusCode, b)
		}
	}
	big = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 32<<20 {
		t.Errorf("heap grew by %d MB over ten refused 10 MB bodies", grew>>20)
	}
}
