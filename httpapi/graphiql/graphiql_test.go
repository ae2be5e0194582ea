package graphiql_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/httpapi/graphiql"
)

// serve mounts the IDE as package httpapi does.
func serve(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", graphiql.Page())
	mux.Handle("GET /graphiql/", graphiql.Assets("/graphiql/"))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// A transport of its own: the default one asks for gzip itself and
	// hides the answer's encoding.
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// TestPageAndAssetsUnderTheirPolicy: the page at / and every asset it or
// its scripts name come from the embedded bundle, each under a CSP of this
// origin only (scripts and workers 'self', no eval, the WebSocket of the
// request's own host); the page has no inline script.
func TestPageAndAssetsUnderTheirPolicy(t *testing.T) {
	srv := serve(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	checkCSP := func(path, csp string) {
		t.Helper()
		for _, part := range []string{"default-src 'self'", "script-src 'self'", "worker-src 'self'", "connect-src 'self' ws://" + host + " wss://" + host, "object-src 'none'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, part) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, part)
			}
		}
		for _, d := range strings.Split(csp, ";") {
			d = strings.TrimSpace(d)
			if strings.Contains(d, "http:") || strings.Contains(d, "https:") || strings.Contains(d, "*") || strings.Contains(d, "unsafe-eval") ||
				strings.Contains(d, "blob:") || (!strings.HasPrefix(d, "style-src") && strings.Contains(d, "unsafe-inline")) {
				t.Errorf("GET %s: CSP directive %q allows another origin, eval, blobs or inline code", path, d)
			}
		}
	}

	res, page := get(t, srv.URL+"/")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	checkCSP("/", res.Header.Get("Content-Security-Policy"))
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("GET /: no X-Content-Type-Options: nosniff")
	}
	if regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`).Match(page) || regexp.MustCompile(`(src|href)="(https?:)?//`).Match(page) {
		t.Errorf("the page has an inline script or loads from another origin:\n%s", page)
	}
	for _, ref := range []string{`src="/graphiql/app.js"`, `href="/graphiql/app.css"`, `id="graphiql"`} {
		if !bytes.Contains(page, []byte(ref)) {
			t.Errorf("the page lacks %s", ref)
		}
	}

	// The scripts name their chunks and workers: each is served, with the
	// type a browser runs or applies under nosniff, and the chunks it names
	// in turn.
	names := map[string]bool{}
	queue := []string{"app.js", "app.css", "editor.worker.js", "json.worker.js", "graphql.worker.js"}
	chunk := regexp.MustCompile(`chunk-[A-Z0-9]+\.js`)
	cdn := regexp.MustCompile(`esm\.sh|unpkg\.com|jsdelivr|cdnjs|googleapis|gstatic`)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if names[name] {
			continue
		}
		names[name] = true
		path := "/graphiql/" + name
		res, body := get(t, srv.URL+path)
		want := "text/javascript"
		if strings.HasSuffix(name, ".css") {
			want = "text/css"
		}
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), want) || len(body) == 0 {
			t.Errorf("GET %s: %d %q (%d bytes), want 200 %s", path, res.StatusCode, res.Header.Get("Content-Type"), len(body), want)
			continue
		}
		checkCSP(path, res.Header.Get("Content-Security-Policy"))
		if m := cdn.Find(body); m != nil {
			t.Errorf("%s names a CDN: %s", name, m)
		}
		for _, c := range chunk.FindAll(body, -1) {
			queue = append(queue, string(c))
		}
	}
	if len(names) < 10 {
		t.Errorf("the bundle's scripts name %d files, want app.js's lazily loaded chunks too: %v", len(names), names)
	}
	t.Logf("%d files reached from the page", len(names))
	// workers.js starts the workers by these names, beside app.js.
	_, app := get(t, srv.URL+"/graphiql/app.js")
	if !bytes.Contains(app, []byte(".worker.js")) || !bytes.Contains(app, []byte("MonacoEnvironment")) {
		t.Error("app.js does not set MonacoEnvironment to start the bundled workers")
	}
}

// TestAssetsAreCachedAndCompressed: an ETag makes a revisit a 304; a client
// that accepts gzip gets the same bytes gzipped; the page and listings are
// not assets.
func TestAssetsAreCachedAndCompressed(t *testing.T) {
	srv := serve(t)
	res, plain := get(t, srv.URL+"/graphiql/app.js")
	etag := res.Header.Get("ETag")
	if etag == "" || res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("GET app.js: ETag %q, Cache-Control %q, Content-Encoding %q", etag, res.Header.Get("Cache-Control"), res.Header.Get("Content-Encoding"))
	}
	if res, body := get(t, srv.URL+"/graphiql/app.js", "If-None-Match", etag); res.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("revisit with If-None-Match: %d (%d bytes), want 304", res.StatusCode, len(body))
	}

	res, gz := get(t, srv.URL+"/graphiql/app.js", "Accept-Encoding", "br, gzip;q=0.8")
	if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") || res.Header.Get("ETag") == etag {
		t.Fatalf("gzip: Content-Encoding %q, Vary %q, ETag %q (plain %q)", res.Header.Get("Content-Encoding"), res.Header.Get("Vary"), res.Header.Get("ETag"), etag)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, plain) {
		t.Errorf("gzipped app.js (%d bytes) does not unzip to app.js (%d bytes): %v", len(gz), len(plain), err)
	}
	t.Logf("app.js: %d bytes, %d gzipped", len(plain), len(gz))
	if res, _ := get(t, srv.URL+"/graphiql/app.js", "Accept-Encoding", "gzip;q=0"); res.Header.Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 got gzip")
	}

	for _, path := range []string{"/graphiql/", "/graphiql/index.html", "/graphiql/nope.js", "/graphiql/%2e%2e%2fgraphiql.go", "/graphiql/x/app.js"} {
		if res, _ := get(t, srv.URL+path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}
}

// TestOff: what / answers with the IDE turned off.
func TestOff(t *testing.T) {
	srv := httptest.NewServer(graphiql.Off())
	defer srv.Close()
	res, body := get(t, srv.URL+"/")
	if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") ||
		!strings.Contains(string(body), "MERIDIAN_GRAPHIQL") || !strings.Contains(string(body), "/query") {
		t.Errorf("Off: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}
