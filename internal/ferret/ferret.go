// Package ferret starts an embedded FerretDB (v1, PostgreSQL handler) for
// tests: the only MongoDB-wire server that runs on the development machines
// (see /work/shared/notes/ferretdb.md for what it gets right and wrong).
//
// Import it ONLY from _test.go files: FerretDB doubles the size of any
// binary that links it and adds about two minutes of cold build.
package ferret

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"github.com/meridian-graphql/meridian/internal/testdb"
)

// newMu serialises ferretdb.New: it writes a package variable of FerretDB
// (version.Get().Package = "embedded") on every call, a data race between
// parallel tests otherwise. The only package-level state here, and it
// guards FerretDB's, not ours.
var newMu sync.Mutex

// Start runs a FerretDB on 127.0.0.1 (a free port) backed by a fresh
// PostgreSQL database, and returns its mongodb:// URI. The server stops,
// and its database is dropped, when the test ends. FerretDB logs every
// error reply it sends at WARN level, so its logging is discarded.
func Start(t testing.TB) string {
	t.Helper()
	pgURL := testdb.NewPostgresDatabase(t)
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:       "postgresql",
		PostgreSQLURL: pgURL,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	newMu.Unlock()
	if err != nil {
		t.Fatalf("ferret: cannot start FerretDB on PostgreSQL %s: %v", pgURL, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx) // returns nil once ctx is cancelled
	}()
	// Registered after testdb's cleanup, so it runs before the database is
	// dropped: FerretDB closes its PostgreSQL pool first.
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Logf("ferret: FerretDB did not stop within 30s")
		}
	})
	// MongoDBURI waits until Run has opened the listener.
	uri := make(chan string, 1)
	go func() { uri <- f.MongoDBURI() }()
	select {
	case u := <-uri:
		return u
	case <-done:
		t.Fatalf("ferret: FerretDB stopped before listening")
	case <-time.After(30 * time.Second):
		t.Fatalf("ferret: FerretDB did not start listening within 30s")
	}
	return ""
}
