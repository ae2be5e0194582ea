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

const chromiumPath = "/usr/bin/chromium"

// browserRun is one of the browser tests: a playwright-core script,
// test/browser.mjs in the web folder Web (whose node_modules holds
// playwright-core), run in Debian's headless Chromium against the real
// server on the embedded default, as on a fresh `go run .`, with Users demo
// users.
type browserRun struct {
	Web   string
	Users string
	// ShotsVar names the variable that says where the screenshots go;
	// unset, a fresh folder "meridian-Name-…" under the temporary
	// directory.
	ShotsVar, Name string
	Timeout        time.Duration
}

// run starts the server, creates an ADMIN key by the CLI, and runs the
// script with BASE_URL, ADMIN_KEY, SHOT_DIR and CHROMIUM in its
// environment; the test fails when the script exits non-zero, and logs its
// output and the screenshots' folder. Without node, Chromium or the npm
// packages it skips, unless MERIDIAN_REQUIRE_BROWSER=1 (CI).
func (b browserRun) run(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no browser")
	}
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
	if _, err := os.Stat(filepath.Join(b.Web, "node_modules", "playwright-core")); err != nil {
		missing("playwright-core is not installed: run npm ci in %s", b.Web)
	}

	srv := prepareProduction(t, map[string]string{"MERIDIAN_DATA_DIR": t.TempDir(), "MERIDIAN_DEMO_USERS": b.Users}, nil, nil)
	var key, keyErr bytes.Buffer
	if err := run(context.Background(), []string{"apikey", "create", "--name", b.Name + "-test", "--role", "admin"}, func(k string) string { return srv.Vars[k] }, &key, &keyErr); err != nil {
		t.Fatalf("apikey create: %v\n%s", err, keyErr.String())
	}
	srv.serveInProcess(t)

	shots := os.Getenv(b.ShotsVar)
	if shots == "" {
		if shots, err = os.MkdirTemp("", "meridian-"+b.Name+"-"); err != nil {
			t.Fatal(err)
		}
	}
	if shots, err = filepath.Abs(shots); err != nil {
		t.Fatal(err)
	}
	script, cancelScript := context.WithTimeout(context.Background(), b.Timeout)
	defer cancelScript()
	cmd := exec.CommandContext(script, node, filepath.Join("test", "browser.mjs"))
	cmd.Dir = b.Web
	cmd.Env = append(os.Environ(), "BASE_URL="+srv.URL, "ADMIN_KEY="+strings.TrimSpace(key.String()), "SHOT_DIR="+shots, "CHROMIUM="+chromiumPath)
	out, err := cmd.CombinedOutput()
	t.Logf("browser checks:\n%s", out)
	if err != nil {
		t.Errorf("browser checks failed: %v", err)
	}
	t.Logf("screenshots of the %s: %s", b.Name, shots)
}
