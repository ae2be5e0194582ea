package gqlhttp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A large result goes through whole, under both media types and methods.
func TestLargeResultIsNotTruncated(t *testing.T) {
	f := newFixture(t, Config{})
	const n = 8 << 20
	q := fmt.Sprintf("{ big(n: %d) hello }", n)
	for _, rq := range []request{
		post(`{"query":`+jsonString(q)+`}`, "Accept", acceptGraphQL),
		post(`{"query":`+jsonString(q)+`}`, "Accept", acceptJSON),
		get(urlQuery("query", q)),
	} {
		res := f.do(t, rq)
		var out struct {
			Data struct{ Big, Hello string }
		}
		if err := json.Unmarshal(res.body, &out); err != nil {
			t.Fatalf("%s %s: %v (%d bytes)", rq.method, rq.header["Accept"], err, len(res.body))
		}
		if res.StatusCode != 200 || len(out.Data.Big) != n || out.Data.Hello != "world" {
			t.Errorf("%s %s: status %d, big %d bytes, hello %q", rq.method, rq.header["Accept"], res.StatusCode, len(out.Data.Big), out.Data.Hello)
		}
	}
}

// chunked is an inner handler that writes body in pieces of the given
// sizes (the last one repeating), as a handler with its own buffering
// might; flush calls Flush after each piece.
func chunked(status int, body []byte, flush bool, sizes ...int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.Header.Get("Accept"))
		w.WriteHeader(status)
		for i := 0; len(body) > 0; i++ {
			n := min(sizes[min(i, len(sizes)-1)], len(body))
			if _, err := w.Write(body[:n]); err != nil {
				return
			}
			body = body[n:]
			if flush {
				w.(http.Flusher).Flush()
			}
		}
	})
}

// Whatever the pieces, the bytes arrive unchanged, and the status is
// decided from the top of the body even when "data" comes in bits.
func TestChunkedWritesArriveWhole(t *testing.T) {
	big := strings.Repeat(`\"x\u00e9\\`, 1<<18)
	result := []byte(`{"errors":[{"message":"m \"data\": {","path":["a"]}],"data":{"a":null,"b":"` + big + `"},"extensions":{"n":1}}`)
	requestError := []byte(`{"errors":[` + strings.Repeat(`{"message":"no path, }]\"data\":1"},`, 50000) + `{"message":"last"}],"data":null}`)
	cases := []struct {
		name   string
		status int
		body   []byte
		flush  bool
		sizes  []int
		accept string
		want   int
		same   bool // body unchanged
	}{
		{"result, one write", 200, result, false, []int{len(result)}, acceptGraphQL, 200, true},
		{"result, byte by byte at first", 200, result, false, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4096}, acceptGraphQL, 200, true},
		{"result in 3-byte pieces", 200, result, false, []int{3}, acceptGraphQL, 200, true},
		{"result, gqlgen's 422 under application/json", 422, result, false, []int{7}, acceptJSON, 200, true},
		{"request error, large, in pieces", 200, requestError, false, []int{5, 4096}, acceptGraphQL, 400, false},
		{"request error under application/json keeps its bytes", 422, requestError, false, []int{4096}, acceptJSON, 200, true},
		{"a flushing handler streams with its own status", 422, result, true, []int{2, 1000}, acceptJSON, 422, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(Handler(chunked(c.status, c.body, c.flush, c.sizes...), Config{}))
			defer srv.Close()
			f := &fixture{Server: srv}
			res := f.do(t, post(`{"query":"{ a }"}`, "Accept", c.accept))
			if res.StatusCode != c.want {
				t.Errorf("status %d, want %d", res.StatusCode, c.want)
			}
			if c.same && !bytes.Equal(res.body, c.body) {
				t.Errorf("body changed: %d bytes, want %d", len(res.body), len(c.body))
			}
			if !c.same {
				// The request error loses its "data": null, nothing else.
				var got, want map[string]any
				if err := json.Unmarshal(res.body, &got); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(c.body, &want); err != nil {
					t.Fatal(err)
				}
				if _, ok := got["data"]; ok {
					t.Errorf("data entry kept")
				}
				if g, w := len(got["errors"].([]any)), len(want["errors"].([]any)); g != w {
					t.Errorf("%d errors, want %d", g, w)
				}
			}
		})
	}
}

// A result is not held back: its bytes reach the client while the handler
// is still writing, so the memory a large response takes stays the
// handler's own.
func TestResultStreamsWithoutBuffering(t *testing.T) {
	const prefix = 1 << 20
	release := make(chan struct{})
	timedOut := make(chan bool, 1)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.Header.Get("Accept"))
		fmt.Fprintf(w, `{"data":{"big":"%s`, strings.Repeat("x", prefix))
		select {
		case <-release:
			timedOut <- false
		case <-time.After(5 * time.Second):
			timedOut <- true
		}
		fmt.Fprint(w, `"}}`)
	})
	srv := httptest.NewServer(Handler(inner, Config{}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"query":"{ big }"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	head := make([]byte, prefix)
	if _, err := io.ReadFull(res.Body, head); err != nil {
		t.Fatal(err)
	}
	close(release)
	if <-timedOut {
		t.Fatal("the first megabyte only arrived once the handler had finished")
	}
	rest, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || len(head)+len(rest) != prefix+len(`{"data":{"big":""}}`) {
		t.Errorf("status %d, %d bytes", res.StatusCode, len(head)+len(rest))
	}
}
