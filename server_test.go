package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/platform/config"
)

// TestServeEmbeddedDefault starts the real server the way `go run .` does on
// a fresh machine — embedded SQLite in an empty data directory — and checks
// that it seeds the demo data, answers a nested query with real places, and
// shuts down gracefully. Anonymous callers read analytics and write
// nothing; /metrics is served on its own listener when asked to.
func TestServeEmbeddedDefault(t *testing.T) {
	freeAddr := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	addr, metricsAddr := freeAddr(), freeAddr()
	env := map[string]string{
		"MERIDIAN_ADDR":         addr,
		"MERIDIAN_METRICS_ADDR": metricsAddr,
		"MERIDIAN_DATA_DIR":     t.TempDir(),
		"MERIDIAN_DEMO_USERS":   "300",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, io.Discard, io.Discard) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil && res.StatusCode == http.StatusOK {
			res.Body.Close()
			break
		}
		if err == nil {
			res.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v", err)
		}
		select {
		case err := <-done:
			t.Fatalf("server stopped: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}

	body, _ := json.Marshal(map[string]string{"query": `{ country(code: "FR") { name cities(first: 5, orderBy: {field: POPULATION, direction: DESC}) { edges { node { name latitude longitude } } } } }`})
	res, err := http.Post("http://"+addr+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Data struct {
			Country struct {
				Name   string
				Cities struct {
					Edges []struct {
						Node struct {
							Name                string
							Latitude, Longitude float64
						}
					}
				}
			}
		}
		Errors []any
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(out.Errors) > 0 {
		t.Fatalf("errors: %v", out.Errors)
	}
	if out.Data.Country.Name != "France" || len(out.Data.Country.Cities.Edges) == 0 {
		t.Fatalf("France = %+v", out.Data.Country)
	}
	paris := out.Data.Country.Cities.Edges[0].Node
	if paris.Name != "Paris" || paris.Latitude < 48.8 || paris.Latitude > 48.9 || paris.Longitude < 2.3 || paris.Longitude > 2.4 {
		t.Errorf("largest French city = %+v, want Paris at 48.86, 2.35", paris)
	}

	// The demo has events too, matching its orders.
	body, _ = json.Marshal(map[string]string{"query": `{ eventDistribution { type count } purchaseAnalytics(groupBy: COUNTRY) { key revenue } }`})
	res, err = http.Post("http://"+addr+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Data struct {
			EventDistribution []struct {
				Type  string
				Count int
			}
			PurchaseAnalytics []struct {
				Key     string
				Revenue float64
			}
		}
		Errors []any
	}
	if err := json.NewDecoder(res.Body).Decode(&ev); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(ev.Errors) > 0 || len(ev.Data.EventDistribution) < 6 || len(ev.Data.PurchaseAnalytics) < 5 {
		t.Errorf("demo events: %+v %v", ev.Data, ev.Errors)
	}

	// The demo is read-only for anonymous callers.
	body, _ = json.Marshal(map[string]string{"query": `mutation { trackEvent(input: {userId: 1, type: "click"}) { id } }`})
	res, err = http.Post("http://"+addr+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var mut struct {
		Data   any
		Errors []struct{ Extensions struct{ Code string } }
	}
	_ = json.NewDecoder(res.Body).Decode(&mut)
	res.Body.Close()
	if len(mut.Errors) != 1 || mut.Errors[0].Extensions.Code != "UNAUTHENTICATED" {
		t.Errorf("anonymous mutation: %+v", mut)
	}

	// /metrics lives on its own address only.
	for a, want := range map[string]int{addr: http.StatusNotFound, metricsAddr: http.StatusOK} {
		res, err := http.Get("http://" + a + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want || (want == http.StatusOK && !strings.Contains(string(text), "meridian_")) {
			t.Errorf("GET %s/metrics: %d, want %d", a, res.StatusCode, want)
		}
	}

	res, err = http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(strings.ToLower(string(page)), "graphiql") {
		t.Errorf("/ does not serve GraphiQL")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not shut down")
	}
}

func TestHelpListsEveryVariable(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, v := range config.Vars() {
		if !strings.Contains(out.String(), v.Name) {
			t.Errorf("--help does not list %s", v.Name)
		}
	}
}

func TestBadConfigurationIsReported(t *testing.T) {
	env := map[string]string{"MERIDIAN_LOADER_WAIT": "soon", "MERIDIAN_LOG_FORMAT": "xml"}
	err := run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "MERIDIAN_LOADER_WAIT") || !strings.Contains(err.Error(), "MERIDIAN_LOG_FORMAT") {
		t.Fatalf("err = %v, want both bad variables named", err)
	}
}
