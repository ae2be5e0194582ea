package main

import (
	"path/filepath"
	"testing"
	"time"
)

// TestDashboardInBrowser starts the real server on the embedded default with
// the demo data, as `go run .` does, and runs the dashboard's playwright-core
// script (httpapi/dashboard/web/test/browser.mjs) in Debian's headless
// Chromium against it: every panel ready, a tracked event in the live panel
// within 2 s, a revoked key turning panels to error, no console errors, no
// horizontal overflow at 1280 and 390 px, every control reachable with Tab.
// Screenshots of each panel go to MERIDIAN_DASHBOARD_SHOTS or a fresh
// folder under the temporary directory, printed. Without node, Chromium or
// the npm packages it skips, unless MERIDIAN_REQUIRE_BROWSER=1 (CI).
func TestDashboardInBrowser(t *testing.T) {
	browserRun{
		Web:      filepath.Join("httpapi", "dashboard", "web"),
		Users:    "300", // fewer demo users than the default
		ShotsVar: "MERIDIAN_DASHBOARD_SHOTS",
		Name:     "dashboard",
		Timeout:  3 * time.Minute,
	}.run(t)
}
