package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
)

// TestGraphiQLSwitch drives the real handler over HTTP with the IDE on (the
// development default) and off (NoGraphiQL, MERIDIAN_GRAPHIQL=false, the
// production default): on, / is the embedded page under its CSP and its
// assets are served; off, / answers 404 saying so and no asset is served;
// /query answers the same either way.
func TestGraphiQLSwitch(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	get := func(url string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(body)
	}
	for _, off := range []bool{false, true} {
		c := gqltest.Serve(t, httpapi.Deps{DB: db, NoGraphiQL: off, Auth: gqltest.Grant(auth.Viewer)})
		host := strings.TrimPrefix(c.URL(), "http://")
		page, body := get(c.URL() + "/")
		asset, _ := get(c.URL() + "/graphiql/app.js")
		csp := page.Header.Get("Content-Security-Policy")
		if !off {
			if page.StatusCode != http.StatusOK || !strings.Contains(body, `src="/graphiql/app.js"`) ||
				!strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self' ws://"+host+" wss://"+host) {
				t.Errorf("on: GET / = %d, CSP %q:\n%.300s", page.StatusCode, csp, body)
			}
			if asset.StatusCode != http.StatusOK || asset.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("on: GET /graphiql/app.js = %d, CSP %q", asset.StatusCode, asset.Header.Get("Content-Security-Policy"))
			}
		} else {
			if page.StatusCode != http.StatusNotFound || !strings.Contains(body, "MERIDIAN_GRAPHIQL") || strings.Contains(body, "<script") {
				t.Errorf("off: GET / = %d: %.300s", page.StatusCode, body)
			}
			if asset.StatusCode != http.StatusNotFound {
				t.Errorf("off: GET /graphiql/app.js = %d, want 404", asset.StatusCode)
			}
		}
		var out struct {
			Typename string `json:"__typename"`
		}
		if c.MustDo(`{ __typename }`, nil, &out); out.Typename != "Query" {
			t.Errorf("off=%v: /query answered %+v", off, out)
		}
	}
}
