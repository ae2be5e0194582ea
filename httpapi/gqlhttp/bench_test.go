package gqlhttp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkOverhead measures what Handler adds to a request, in process
// (no network): each inner handler is run bare and behind Handler, and
// the difference is the overhead. "static" answers a fixed result after
// reading the body, so that Handler's share is not lost in gqlgen's.
func BenchmarkOverhead(b *testing.B) {
	var mutations atomic.Int64
	result := []byte(`{"data":{"hello":"world","items":[` + strings.Repeat(`{"id":1,"name":"n"},`, 50) + `{"id":2}]}}`)
	static := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(result)
	})
	inners := []struct {
		name string
		h    http.Handler
	}{{"gqlgen", newGraphQL(&mutations)}, {"static", static}}
	requests := []struct {
		name string
		new  func() *http.Request
	}{
		{"POST", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":"query Q($id: Int!) { hello find(id: $id) }","variables":{"id":7}}`))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Accept", "application/graphql-response+json, application/json;q=0.9")
			r.Header.Set("Authorization", "Bearer x")
			return r
		}},
		{"GET", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/query?query=%7B+hello+%7D", nil)
			r.Header.Set("Accept", "application/json")
			return r
		}},
	}
	for _, in := range inners {
		for _, rq := range requests {
			for _, wrapped := range []bool{false, true} {
				h, name := in.h, in.name+"/"+rq.name+"/bare"
				if wrapped {
					h, name = Handler(in.h, Config{AllowedOrigins: []string{origin}}), in.name+"/"+rq.name+"/gqlhttp"
				}
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						w := httptest.NewRecorder()
						h.ServeHTTP(w, rq.new())
						if w.Code != http.StatusOK {
							b.Fatalf("status %d: %s", w.Code, w.Body)
						}
					}
				})
			}
		}
	}
}
