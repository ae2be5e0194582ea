package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestRefusalMessages: a client is told what went wrong with its
// request over HTTP: no credential asks for one; an unknown, revoked or
// malformed key, or a JWT where none are accepted, says the credential is
// invalid (not "send an API key", which the client did); all 401
// UNAUTHENTICATED.
func TestRefusalMessages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		keys := auth.NewKeys(db)
		if err := keys.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		k, key, err := keys.Create(ctx, "revoked", auth.Analyst)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := keys.Revoke(ctx, k.ID); !ok || err != nil {
			t.Fatalf("Revoke = %v, %v", ok, err)
		}
		_, live, err := keys.Create(ctx, "live", auth.Analyst)
		if err != nil {
			t.Fatal(err)
		}
		a := &auth.Authenticator{Keys: keys} // anonymous access off
		srv := httptest.NewServer(a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"data":{}}`))
		})))
		defer srv.Close()

		for _, tc := range []struct {
			name, header, want string
		}{
			{"none", "", "authentication required"},
			{"revoked", "Bearer " + key, "invalid credential"},
			{"unknown", "Bearer mrd_" + strings.Repeat("a", 16) + "_" + strings.Repeat("b", 26), "invalid credential"},
			{"malformed", "ApiKey mrd_nope", "invalid credential"},
			{"jwt", "Bearer eyJhbGciOiJub25lIn0.e30.", "invalid credential"},
		} {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{"query":"{__typename}"}`))
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Errors []struct {
					Message    string
					Extensions struct{ Code string }
				}
			}
			err = json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			if err != nil || res.StatusCode != http.StatusUnauthorized || len(body.Errors) != 1 ||
				body.Errors[0].Extensions.Code != "UNAUTHENTICATED" || !strings.HasPrefix(body.Errors[0].Message, tc.want) {
				t.Errorf("%s: status %d, body %+v (%v), want 401 UNAUTHENTICATED %q…", tc.name, res.StatusCode, body, err, tc.want)
			}
		}
		// The live key passes: the refusals above are about the credential.
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
		req.Header.Set("X-API-Key", live)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("live key: status %d", res.StatusCode)
		}
	})
}
