package mongostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/internal/ferret"
)

// Every test runs against an embedded FerretDB, and also against the real
// MongoDB named by MONGODB_TEST_URI when it is set. On each server it runs
// the fallback path (Options.ForceFallback) and the capable path; FerretDB
// fails the capability probe, so the capable path is exercised only with
// MONGODB_TEST_URI (on FerretDB its subtests are skipped, saying so).

type server struct{ name, uri string }

func servers(t *testing.T) []server {
	t.Helper()
	out := []server{{"ferretdb", ferret.Start(t)}}
	if uri := os.Getenv("MONGODB_TEST_URI"); uri != "" {
		out = append(out, server{"mongodb", uri})
	}
	return out
}

// opener opens a fresh Store on a database of its own, dropped when the
// test ends.
type opener func(t *testing.T) *Store

// eachPath runs fn for every server and both query paths.
func eachPath(t *testing.T, fn func(t *testing.T, open opener)) {
	t.Helper()
	for _, srv := range servers(t) {
		t.Run(srv.name, func(t *testing.T) {
			t.Run("fallback", func(t *testing.T) {
				fn(t, func(t *testing.T) *Store { return openStore(t, srv.uri, Options{ForceFallback: true}) })
			})
			t.Run("capable", func(t *testing.T) {
				if s := openStore(t, srv.uri, Options{}); !s.Capable() {
					t.Skipf("%s fails the capability probe, as FerretDB does: the capable path is tested only against a real MongoDB (MONGODB_TEST_URI)", s.Server())
				}
				fn(t, func(t *testing.T) *Store { return openStore(t, srv.uri, Options{}) })
			})
		})
	}
}

func openStore(t *testing.T, uri string, opts Options) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	s, err := NewWithOptions(ctx, uri, "mstest_"+hex.EncodeToString(b), opts)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.db.Drop(ctx); err != nil {
			t.Logf("drop %s: %v", s.db.Name(), err)
		}
		if err := s.Close(ctx); err != nil {
			t.Logf("close: %v", err)
		}
	})
	return s
}

// ev is a fixture event: ts is "2006-01-02 15:04:05.000" UTC.
type ev struct {
	id, typ string
	user    int
	ts      string
	meta    map[string]any
	geo     *analytics.Geo
}

func ts(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05.000", s)
	if err != nil {
		t, err = time.Parse("2006-01-02 15:04", s)
	}
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func prepare(t *testing.T, items ...ev) []analytics.Event {
	t.Helper()
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]analytics.Event, len(items))
	for i, it := range items {
		id, at := it.id, ts(it.ts)
		e, err := analytics.DefaultPolicy().Prepare(analytics.EventInput{ID: &id, UserID: it.user, Type: it.typ, Timestamp: &at, Metadata: it.meta, Geo: it.geo}, now)
		if err != nil {
			t.Fatalf("fixture %s: %v", it.id, err)
		}
		out[i] = e
	}
	return out
}

func load(t *testing.T, s *Store, items ...ev) {
	t.Helper()
	if n, err := s.Insert(context.Background(), prepare(t, items...)); err != nil || n != len(items) {
		t.Fatalf("Insert(fixture) = %d, %v; want %d", n, err, len(items))
	}
}

func idsOf(es []analytics.Event) string {
	var s []string
	for _, e := range es {
		s = append(s, e.ID)
	}
	return strings.Join(s, " ")
}

func exportIDs(t *testing.T, s *Store, r analytics.Range, f analytics.Filter) string {
	t.Helper()
	var got []analytics.Event
	if err := s.Export(context.Background(), r, f, func(e *analytics.Event) error {
		got = append(got, *e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return idsOf(got)
}

var (
	kyiv  = &analytics.Geo{Country: "UA", City: "Kyiv", Lat: 50.4501, Lon: 30.5234}
	lviv  = &analytics.Geo{Country: "UA", City: "Lviv", Lat: 49.8397, Lon: 24.0297}
	paris = &analytics.Geo{Country: "FR", City: "Paris", Lat: 48.8566, Lon: 2.3522}
)
