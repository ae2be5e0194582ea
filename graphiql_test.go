package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGraphiQLInBrowser starts the real server on the embedded default, as
// `go run .` does, and runs GraphiQL's playwright-core script
// (httpapi/graphiql/web/test/browser.mjs) in Debian's headless Chromium
// against it with every request beyond loopback aborted and counted (none
// may be attempted): the editor up, a query run from it with its data in
// the result pane, the graphql worker validating, the explorer panel open,
// a subscription over graphql-transport-ws delivering a tracked event, no
// CSP violation and no console error. The screenshot goes to
// MERIDIAN_GRAPHIQL_SHOTS or a fresh folder under the temporary directory,
// printed. Without node, Chromium or the npm packages it skips, unless
// MERIDIAN_REQUIRE_BROWSER=1 (CI).
func TestGraphiQLInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	web := filepath.Join("httpapi", "graphiql", "web")
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("MERIDIAN_REQUIRE_BROWSER") == "1" {
			t.Fatalf("%s (MERIDIAN_REQUIRE_BROWSER=1)", msg)
		}
		t.Skipf("%s; set MERIDIAN_REQUIRE_BROWSER=1 to fail instead", msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed: apt-get install nodejs npm")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		missing("%s is missing: apt-get install chromium", chromiumPath)
	}
	if _, err := os.Stat(filepath.Join(web, "node_modules", "playwright-core")); err != nil {
		missing("playwright-core is not installed: run npm ci in %s", web)
	}

	// The embedded default, as on a fresh `go run .`, with few demo users:
	// the countries are there whatever their number.
	srv := prepareProduction(t, map[string]string{"MERIDIAN_DATA_DIR": t.TempDir(), "MERIDIAN_DEMO_USERS": "50"}, nil, nil)
	var key, keyErr bytes.Buffer
	if err := run(context.Background(), []string{"apikey", "create", "--name", "graphiql-test", "--role", "admin"}, func(k string) string { return srv.Vars[k] }, &key, &keyErr); err != nil {
		t.Fatalf("apikey create: %v\n%s", err, keyErr.String())
	}
	srv.serveInProcess(t)

	shots := os.Getenv("MERIDIAN_GRAPHIQL_SHOTS")
	if shots == "" {
		if shots, err = os.MkdirTemp("", "meridian-graphiql-"); err != nil {
			t.Fatal(err)
		}
	}
	if shots, err = filepath.Abs(shots); err != nil {
		t.Fatal(err)
	}
	script, cancelScript := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelScript()
	cmd := exec.CommandContext(script, node, filepath.Join("test", "browser.mjs"))
	cmd.Dir = web
	cmd.Env = append(os.Environ(), "BASE_URL="+srv.URL, "ADMIN_KEY="+strings.TrimSpace(key.String()), "SHOT_DIR="+shots, "CHROMIUM="+chromiumPath)
	out, err := cmd.CombinedOutput()
	t.Logf("browser checks:\n%s", out)
	if err != nil {
		t.Errorf("browser checks failed: %v", err)
	}
	t.Logf("screenshot of GraphiQL: %s", shots)
}
