package dashboard_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/httpapi/dashboard"
)

// TestServesTheBundleUnderItsPolicy: the page and its assets come from the
// embedded bundle with a same-origin CSP that names the request's own
// WebSocket URL; /dashboard redirects to /dashboard/.
func TestServesTheBundleUnderItsPolicy(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /dashboard", dashboard.Handler("/dashboard/"))
	mux.Handle("GET /dashboard/", dashboard.Handler("/dashboard/"))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	res, err := noRedirect.Get(srv.URL + "/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/dashboard/" {
		t.Errorf("GET /dashboard: %d to %q, want 301 to /dashboard/", res.StatusCode, res.Header.Get("Location"))
	}

	host := strings.TrimPrefix(srv.URL, "http://")
	for path, want := range map[string]string{"/dashboard/": "text/html", "/dashboard/app.js": "text/javascript", "/dashboard/app.css": "text/css"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), want) || len(body) == 0 {
			t.Errorf("GET %s: %d %q (%d bytes), want 200 %s", path, res.StatusCode, res.Header.Get("Content-Type"), len(body), want)
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, part := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self' ws://" + host + " wss://" + host} {
			if !strings.Contains(csp, part) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, part)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http:") || strings.Contains(csp, "https:") {
			t.Errorf("GET %s: CSP %q allows inline code or other origins", path, csp)
		}
	}

	res, err = http.Get(srv.URL + "/dashboard/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, panel := range []string{"live", "metrics", "retention", "map", "segments", "purchases", "health"} {
		if !strings.Contains(string(page), `data-panel="`+panel+`"`) {
			t.Errorf("the page has no %s panel", panel)
		}
	}
	if strings.Contains(string(page), "<script>") || strings.Contains(string(page), "//") && strings.Contains(string(page), `src="http`) {
		t.Error("the page has an inline script or loads from another origin")
	}
}
