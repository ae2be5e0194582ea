package main

import (
	"path/filepath"
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
	browserRun{
		Web: filepath.Join("httpapi", "graphiql", "web"),
		// The countries are there whatever the number of users.
		Users:    "50",
		ShotsVar: "MERIDIAN_GRAPHIQL_SHOTS",
		Name:     "graphiql",
		Timeout:  2 * time.Minute,
	}.run(t)
}
